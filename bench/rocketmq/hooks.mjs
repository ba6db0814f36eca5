// Module hooks for the broker-free harness: `ali-ons` resolves to the fake (fake-ons.mjs); with
// FAKE_STORE=1 in the environment `mqtt-status` does too (fake-store.mjs: a store that commits
// nothing, to tell the example's own cost from the store's).
export async function resolve(specifier, context, next) {
  if (specifier === 'ali-ons') return { url: new URL('./fake-ons.mjs', import.meta.url).href, shortCircuit: true };
  if (specifier === 'mqtt-status' && process.env.FAKE_STORE === '1') {
    return { url: new URL('./fake-store.mjs', import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
