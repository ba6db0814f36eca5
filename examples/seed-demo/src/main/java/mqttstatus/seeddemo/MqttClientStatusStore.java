package mqttstatus.seeddemo;

import java.util.Map;
import java.util.Set;

/** The demo's store: per client, per channel, the set of events received. */
public interface MqttClientStatusStore {
    void addEvent(String clientId, String channelId, String eventType, ClientStatusEvent event);

    Set<ClientStatusEvent> getEvent(String clientId, String channelId);

    void deleteEvent(String clientId, String channelId);

    Map<String, Set<ClientStatusEvent>> getEventsByClientId(String clientId);
}
