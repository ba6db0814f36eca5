package mqttstatus.seeddemo;

/** One status notification as the vendor demo keeps it: its channel, address, type and time. */
public class ClientStatusEvent {
    private String channelId;
    private String clientIp;
    private String eventType;
    private long time;

    public String getChannelId() {
        return channelId;
    }

    public void setChannelId(String channelId) {
        this.channelId = channelId;
    }

    public String getClientIp() {
        return clientIp;
    }

    public void setClientIp(String clientIp) {
        this.clientIp = clientIp;
    }

    public String getEventType() {
        return eventType;
    }

    public void setEventType(String eventType) {
        this.eventType = eventType;
    }

    public long getTime() {
        return time;
    }

    public void setTime(long time) {
        this.time = time;
    }

    /** The demo's notion of "online event": a connect; anything else (tcpclean) is offline. */
    public boolean isOnlineEvent() {
        return "connect".equals(eventType);
    }
}
