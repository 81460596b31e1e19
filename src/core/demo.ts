/**
 * The access key that leaks in the bundled demo scenario (`fixtures/demo`, written by
 * `npm run make-demo` from synth/scenario.ts): `trailhound demo` follows it.
 */
export const DEMO_LEAKED_KEY_ID = 'AKIAQ3EGRV7XCIDEPLOY';
