package mqttstatus.seeddemo;

import com.alibaba.fastjson.JSON;
import com.alibaba.fastjson.JSONObject;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The vendor demo's listener logic, step for step: store the event under its client and channel;
 * once a channel holds both an online (connect) and an offline (tcpclean) event, delete the
 * channel. The ONS {@code Action} becomes a boolean here (true = CommitMessage, false =
 * ReconsumeLater) so it runs on the Apache RocketMQ client's push consumer.
 */
public class MqttClientStatusNoticeListener {
    private final MqttClientStatusStore mqttClientStatusStore;
    private final boolean printMessages;

    public MqttClientStatusNoticeListener(MqttClientStatusStore mqttClientStatusStore, boolean printMessages) {
        this.mqttClientStatusStore = mqttClientStatusStore;
        this.printMessages = printMessages;
    }

    /** Handles one message body; returns whether to commit it (false: reconsume later). */
    public boolean consume(byte[] body) {
        try {
            JSONObject msgBody = JSON.parseObject(new String(body, StandardCharsets.UTF_8));
            if (printMessages) {
                // The demo prints every body; off by default so the throughput measures the rule.
                System.out.println(msgBody);
            }
            String eventType = msgBody.getString("eventType");
            String clientId = msgBody.getString("clientId");
            String channelId = msgBody.getString("channelId");
            ClientStatusEvent event = new ClientStatusEvent();
            event.setChannelId(channelId);
            event.setClientIp(msgBody.getString("clientIp"));
            event.setEventType(eventType);
            event.setTime(msgBody.getLong("time"));
            // First store the new event.
            mqttClientStatusStore.addEvent(clientId, channelId, eventType, event);
            // Then read the current channel's events.
            Set<ClientStatusEvent> events = mqttClientStatusStore.getEvent(clientId, channelId);
            if (events == null || events.isEmpty()) {
                return true;
            }
            // Both an online and an offline event: the channel is gone, drop its data.
            boolean findOnlineEvent = false;
            boolean findOfflineEvent = false;
            for (ClientStatusEvent clientStatusEvent : events) {
                if (clientStatusEvent.isOnlineEvent()) {
                    findOnlineEvent = true;
                } else {
                    findOfflineEvent = true;
                }
            }
            if (findOnlineEvent && findOfflineEvent) {
                mqttClientStatusStore.deleteEvent(clientId, channelId);
            }
            return true;
        } catch (Throwable e) {
            e.printStackTrace();
        }
        return false;
    }

    /**
     * The demo's {@code checkClientOnline}: online iff some channel holds only online events
     * (no channel table: offline; every channel with an offline event: offline).
     */
    public static boolean checkClientOnline(String clientId, MqttClientStatusStore mqttClientStatusStore) {
        java.util.Map<String, Set<ClientStatusEvent>> channelMap = mqttClientStatusStore.getEventsByClientId(clientId);
        if (channelMap == null) {
            return false;
        }
        for (Set<ClientStatusEvent> events : channelMap.values()) {
            boolean findOnlineEvent = false;
            boolean findOfflineEvent = false;
            for (ClientStatusEvent event : events) {
                if (event.isOnlineEvent()) {
                    findOnlineEvent = true;
                } else {
                    findOfflineEvent = true;
                }
            }
            if (findOnlineEvent & !findOfflineEvent) {
                return true;
            }
        }
        return false;
    }
}
