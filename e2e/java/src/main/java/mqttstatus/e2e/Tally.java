package mqttstatus.e2e;

import com.alibaba.fastjson.JSONObject;
import java.io.FileWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a test consumer reports (the same JSON in every language of scripts/ci/e2e.sh): distinct
 * messages consumed, deliveries, and the throughput over the first 95 % of the expected messages
 * (the last few percent wait for redeliveries and would measure the retry delay, not the consumer).
 */
final class Tally {
    private final String consumer;
    private final String group;
    private final int expected;
    private final Set<String> done = ConcurrentHashMap.newKeySet();
    private final AtomicInteger deliveries = new AtomicInteger();
    private final AtomicInteger redeliveries = new AtomicInteger();
    private final CountDownLatch complete = new CountDownLatch(1);
    private volatile long first;
    private volatile long at95;
    private volatile long last;

    Tally(String consumer, String group, int expected) {
        this.consumer = consumer;
        this.group = group;
        this.expected = expected;
    }

    /** Counts a delivery; call before handling it. */
    void delivered(int reconsumeTimes) {
        if (deliveries.getAndIncrement() == 0) {
            first = System.nanoTime();
        }
        if (reconsumeTimes > 0) {
            redeliveries.incrementAndGet();
        }
    }

    /** Counts a message acknowledged (a redelivered message counts once). */
    void acked(String msgId) {
        if (done.add(msgId)) {
            int n = done.size();
            if (at95 == 0 && n >= Math.ceil(expected * 0.95)) {
                at95 = System.nanoTime();
            }
            if (n >= expected) {
                last = System.nanoTime();
                complete.countDown();
            }
        }
    }

    /** Waits until every expected message was acknowledged; false on timeout. */
    boolean await(long seconds) throws InterruptedException {
        return complete.await(seconds, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Writes the report (answers may be null for a bare consumer). */
    void write(String path, Map<String, Boolean> answers) throws IOException {
        JSONObject o = new JSONObject(true);
        o.put("consumer", consumer);
        o.put("group", group);
        o.put("expected", expected);
        o.put("consumed", done.size());
        o.put("deliveries", deliveries.get());
        o.put("redeliveries", redeliveries.get());
        o.put("failedOnPurpose", 0);
        double s95 = at95 == 0 ? 0 : (at95 - first) / 1e9;
        o.put("seconds95", Math.round(s95 * 1000) / 1000.0);
        o.put("rate", s95 == 0 ? 0 : Math.round(Math.ceil(expected * 0.95) / s95));
        o.put("drainSeconds", last == 0 ? null : Math.round((last - first) / 1e6) / 1000.0);
        o.put("answers", answers);
        try (Writer w = new FileWriter(path, StandardCharsets.UTF_8)) {
            w.write(o.toJSONString());
            w.write('\n');
        }
        System.err.printf("%s: %d of %d messages, %d deliveries, %s msg/s (first 95 %%), drained in %s s%n",
                consumer, done.size(), expected, deliveries.get(), o.get("rate"), o.get("drainSeconds"));
    }
}
