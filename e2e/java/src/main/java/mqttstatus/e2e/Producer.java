package mqttstatus.e2e;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONObject;
import com.alibaba.fastjson.parser.Feature;
import java.io.BufferedReader;
import java.io.FileWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

/**
 * Publishes a log written by {@code mqtt-status generate} as the ApsaraMQ for MQTT status rule
 * does: one message per line, tag = event type, body = the notification JSON.
 *
 * <p>A line is either a RocketMQ dump {@code {"tag": ..., "body": ...}} (body a JSON string, sent
 * byte for byte, or an object, sent as its JSON text) or a bare body (tag = its
 * {@code eventType}). Producer-side duplicates in the log are published as separate messages,
 * exactly like a status rule that published twice. Lines that cannot be published (not JSON, no
 * tag) are counted and skipped: generate with {@code --invalid 0} for the end-to-end test.
 *
 * <pre>
 * java -cp ... mqttstatus.e2e.Producer --namesrv 127.0.0.1:9876 --topic GID_meter_MQTT \
 *      --input fleet.jsonl [--summary produced.json] [--batch 128] [--rate MSGS_PER_S]
 * </pre>
 *
 * <p>{@code --rate} paces the stream (for a demo where transitions should scroll by); without it
 * the log is published as fast as the broker takes it.
 */
public final class Producer {
    private Producer() {}

    public static void main(String[] args) throws Exception {
        Args a = new Args(args);
        String namesrv = a.get("--namesrv", "127.0.0.1:9876");
        String topic = a.get("--topic", "GID_meter_MQTT");
        String input = a.require("--input");
        String summary = a.get("--summary", null);
        double rate = Double.parseDouble(a.get("--rate", "0"));
        int batchSize = Integer.parseInt(a.get("--batch", "128"));
        if (rate > 0) {
            // About ten sends a second, so a paced stream flows instead of arriving in bursts.
            batchSize = (int) Math.max(1, Math.min(batchSize, rate / 10));
        }

        DefaultMQProducer producer = new DefaultMQProducer(a.get("--group", "PID_mqtt_status_e2e"));
        producer.setNamesrvAddr(namesrv);
        // The client would otherwise report the host's first non-loopback address as its own.
        producer.setClientIP("127.0.0.1");
        // The VIP channel is the broker's second port (listenPort - 2); one port is enough.
        producer.setVipChannelEnabled(false);
        producer.setSendMsgTimeout(10_000);
        producer.start();

        Map<String, Integer> perTag = new TreeMap<>();
        int sent = 0;
        int skipped = 0;
        long start = System.nanoTime();
        List<Message> batch = new ArrayList<>(batchSize);
        try (BufferedReader in = Files.newBufferedReader(Paths.get(input), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                Message m = toMessage(topic, line);
                if (m == null) {
                    skipped++;
                    continue;
                }
                perTag.merge(m.getTags(), 1, Integer::sum);
                batch.add(m);
                if (batch.size() == batchSize) {
                    send(producer, batch);
                    sent += batch.size();
                    batch.clear();
                    pace(start, sent, rate);
                }
            }
        }
        if (!batch.isEmpty()) {
            send(producer, batch);
            sent += batch.size();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        producer.shutdown();

        JSONObject out = new JSONObject(true);
        out.put("topic", topic);
        out.put("sent", sent);
        out.put("skipped", skipped);
        out.put("perTag", perTag);
        out.put("seconds", Math.round(seconds * 1000) / 1000.0);
        out.put("rate", Math.round(sent / seconds));
        System.err.printf("producer: %d messages (%s) in %.2f s, %.0f msg/s; %d lines skipped%n",
                sent, perTag, seconds, sent / seconds, skipped);
        if (summary != null) {
            try (Writer w = new FileWriter(summary, StandardCharsets.UTF_8)) {
                w.write(out.toJSONString());
                w.write('\n');
            }
        }
    }

    /** The message the status rule would publish for one log line, or null if it has no tag. */
    static Message toMessage(String topic, String line) {
        JSONObject o;
        try {
            o = JSON.parseObject(line, Feature.OrderedField);
        } catch (RuntimeException e) {
            return null;
        }
        if (o == null) {
            return null;
        }
        String tag;
        String body;
        if (o.containsKey("body")) {
            Object b = o.get("body");
            tag = o.getString("tag");
            body = b instanceof String ? (String) b : JSON.toJSONString(b);
            if (tag == null && b instanceof JSONObject) {
                tag = ((JSONObject) b).getString("eventType");
            }
        } else {
            tag = o.getString("eventType");
            body = line;
        }
        if (tag == null || tag.isEmpty()) {
            return null;
        }
        return new Message(topic, tag, body.getBytes(StandardCharsets.UTF_8));
    }

    /** Sleeps until {@code sent} messages are due at {@code rate} per second (0: never). */
    private static void pace(long start, int sent, double rate) throws InterruptedException {
        if (rate <= 0) {
            return;
        }
        long due = start + (long) (sent / rate * 1e9);
        long wait = due - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }

    private static void send(DefaultMQProducer producer, List<Message> batch) throws Exception {
        // A batch goes to one queue; the client rotates queues between sends. Retry a batch that
        // the broker refused (it is re-sent whole: at-least-once, as the real rule is).
        for (int attempt = 1; ; attempt++) {
            try {
                SendResult r = producer.send(new ArrayList<>(batch));
                if (r.getSendStatus() == SendStatus.SEND_OK) {
                    return;
                }
                if (attempt >= 5) {
                    throw new IOException("send status " + r.getSendStatus());
                }
            } catch (Exception e) {
                if (attempt >= 5) {
                    throw e;
                }
                System.err.println("producer: retrying a batch after " + e);
            }
            Thread.sleep(200L * attempt);
        }
    }
}
