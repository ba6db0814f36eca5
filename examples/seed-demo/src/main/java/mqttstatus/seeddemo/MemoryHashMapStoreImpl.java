package mqttstatus.seeddemo;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The demo's "single-machine in-memory" store. The vendor's listing names it but does not show
 * it; this is the obvious hash map of hash maps, made thread-safe because the push consumer calls
 * the listener from its 20 consume threads (so any wrong answer below comes from the demo's rule,
 * not from a data race in this map).
 */
public class MemoryHashMapStoreImpl implements MqttClientStatusStore {
    private final Map<String, Map<String, Set<ClientStatusEvent>>> clients = new ConcurrentHashMap<>();

    @Override
    public void addEvent(String clientId, String channelId, String eventType, ClientStatusEvent event) {
        clients.computeIfAbsent(clientId, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(channelId, k -> ConcurrentHashMap.newKeySet())
                .add(event);
    }

    @Override
    public Set<ClientStatusEvent> getEvent(String clientId, String channelId) {
        Map<String, Set<ClientStatusEvent>> channels = clients.get(clientId);
        return channels == null ? null : channels.get(channelId);
    }

    @Override
    public void deleteEvent(String clientId, String channelId) {
        Map<String, Set<ClientStatusEvent>> channels = clients.get(clientId);
        if (channels != null) {
            channels.remove(channelId);
        }
    }

    @Override
    public Map<String, Set<ClientStatusEvent>> getEventsByClientId(String clientId) {
        return clients.get(clientId);
    }

    /** Every client that sent a message (a deleted channel leaves its client's entry behind). */
    public Set<String> clientIds() {
        return clients.keySet();
    }
}
