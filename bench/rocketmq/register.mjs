// `node --import ./bench/rocketmq/register.mjs examples/node/rocketmq-consumer.mjs ...` runs the
// example unchanged on the broker-free fake of ali-ons (fake-ons.mjs).
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
