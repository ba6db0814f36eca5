package mqttstatus.seeddemo;

import com.alibaba.fastjson.JSONObject;
import java.io.FileWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * The vendor's MQTTClientStatusNoticeProcessDemo on the Apache RocketMQ 4.x push consumer: its
 * own consumer group, the demo's subscription {@code connect||tcpclean}, its listener and its
 * in-memory store. Instead of polling one client every second, it waits until the expected
 * number of messages was consumed and writes {@code checkClientOnline} for every client it saw,
 * with its message counts and throughput, as JSON (the report format of scripts/ci/e2e.sh).
 *
 * <pre>
 * java -cp target/classes:target/lib/* mqttstatus.seeddemo.SeedDemo --namesrv 127.0.0.1:9876 \
 *      --topic GID_meter_MQTT --group GID_seed_demo --expect N --report seed.json
 * </pre>
 */
public final class SeedDemo {
    private SeedDemo() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        String group = a.getOrDefault("--group", "GID_seed_demo");
        int expected = Integer.parseInt(a.getOrDefault("--expect", "0"));
        MemoryHashMapStoreImpl store = new MemoryHashMapStoreImpl();
        MqttClientStatusNoticeListener listener =
                new MqttClientStatusNoticeListener(store, a.containsKey("--print-messages"));

        // Bookkeeping for the test only: which messages were committed, and when.
        Set<String> committed = ConcurrentHashMap.newKeySet();
        int[] deliveries = {0};
        long[] times = new long[3]; // first delivery, 95 % committed, all committed
        CountDownLatch drained = new CountDownLatch(expected > 0 ? 1 : 0);

        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setNamesrvAddr(a.getOrDefault("--namesrv", "127.0.0.1:9876"));
        consumer.setClientIP("127.0.0.1");
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        // As the demo: only connect and tcpclean matter for "is it online".
        consumer.subscribe(a.getOrDefault("--topic", "GID_meter_MQTT"), "connect||tcpclean");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                synchronized (times) {
                    if (deliveries[0]++ == 0) {
                        times[0] = System.nanoTime();
                    }
                }
                if (!listener.consume(m.getBody())) {
                    return ConsumeConcurrentlyStatus.RECONSUME_LATER;
                }
                if (committed.add(m.getMsgId())) {
                    int n = committed.size();
                    synchronized (times) {
                        if (times[1] == 0 && n >= Math.ceil(expected * 0.95)) {
                            times[1] = System.nanoTime();
                        }
                        if (n == expected) {
                            times[2] = System.nanoTime();
                            drained.countDown();
                        }
                    }
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        boolean ok = drained.await(Long.parseLong(a.getOrDefault("--timeout", "300")), TimeUnit.SECONDS);
        consumer.shutdown();

        Map<String, Boolean> answers = new TreeMap<>();
        for (String clientId : store.clientIds()) {
            answers.put(clientId, MqttClientStatusNoticeListener.checkClientOnline(clientId, store));
        }
        JSONObject o = new JSONObject(true);
        o.put("consumer", "seed-demo");
        o.put("group", group);
        o.put("expected", expected);
        o.put("consumed", committed.size());
        o.put("deliveries", deliveries[0]);
        double s95 = times[1] == 0 ? 0 : (times[1] - times[0]) / 1e9;
        o.put("seconds95", Math.round(s95 * 1000) / 1000.0);
        o.put("rate", s95 == 0 ? 0 : Math.round(Math.ceil(expected * 0.95) / s95));
        o.put("drainSeconds", times[2] == 0 ? null : Math.round((times[2] - times[0]) / 1e6) / 1000.0);
        o.put("answers", answers);
        String report = a.get("--report");
        if (report == null) {
            System.out.println(o.toJSONString());
        } else {
            try (Writer w = new FileWriter(report, StandardCharsets.UTF_8)) {
                w.write(o.toJSONString());
                w.write('\n');
            }
        }
        long online = answers.values().stream().filter(v -> v).count();
        System.err.printf("seed-demo: %d of %d messages, %s msg/s (first 95 %%), %d clients, %d online by its rule%n",
                committed.size(), expected, o.get("rate"), answers.size(), online);
        System.exit(ok ? 0 : 2);
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new TreeMap<>();
        for (int i = 0; i < args.length; i++) {
            boolean hasValue = i + 1 < args.length && !args[i + 1].startsWith("--");
            m.put(args[i], hasValue ? args[++i] : "true");
        }
        return m;
    }
}
