package mqttstatus.e2e;

import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * The throughput baseline: a push consumer that acknowledges every message and does nothing else
 * (same client, thread pool and subscription as the seed demo beside it).
 *
 * <pre>
 * java -cp ... mqttstatus.e2e.BareConsumer --namesrv 127.0.0.1:9876 --topic GID_meter_MQTT \
 *      --group GID_e2e_bare --tags '*' --expect N --report bare.json [--timeout 300]
 * </pre>
 */
public final class BareConsumer {
    private BareConsumer() {}

    public static void main(String[] args) throws Exception {
        Args a = new Args(args);
        String group = a.get("--group", "GID_e2e_bare_java");
        Tally tally = new Tally(a.get("--name", "bare-java"), group, Integer.parseInt(a.require("--expect")));
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setNamesrvAddr(a.get("--namesrv", "127.0.0.1:9876"));
        consumer.setClientIP("127.0.0.1");
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe(a.get("--topic", "GID_meter_MQTT"), a.get("--tags", "*"));
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                tally.delivered(m.getReconsumeTimes());
                tally.acked(m.getMsgId());
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        boolean ok = tally.await(Long.parseLong(a.get("--timeout", "300")));
        consumer.shutdown();
        tally.write(a.require("--report"), null);
        System.exit(ok ? 0 : 2);
    }
}
