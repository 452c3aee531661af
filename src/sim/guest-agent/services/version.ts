/**
 * Version's answer. The version is the guest agent release whose API this
 * simulator serves (the SDK calls Version to learn that ed25519 keys and the
 * newer TLS options are there); rev names the simulator.
 */
export const GUEST_AGENT_VERSION = { version: "0.5.8", rev: "dstack-vmm-sim (simulated guest agent, no TEE)" };
