// A status store that commits nothing (FAKE_STORE=1, see hooks.mjs): `ingestMany` counts the
// lines and resolves on the next turn with a report without transitions, as a call that went
// through the thread pool would. Measures what the example costs around the store.
export const backend = 'fake';
export class StatusStore {
  static async open() {
    return new StatusStore();
  }

  ingestMany(input) {
    let lines = 1;
    for (let i = input.indexOf(10); i >= 0; i = input.indexOf(10, i + 1)) lines++;
    return new Promise((resolve) =>
      setImmediate(() => resolve({ applied: lines, duplicates: 0, late: 0, rejected: 0, errors: [], transitions: [] })),
    );
  }

  async onlineClients() {
    return [];
  }

  async stats() {
    return {};
  }
}
