/** Lowercase hex of bytes. */
export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex");
