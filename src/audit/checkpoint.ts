/**
 * Checkpoint signatures. A checkpoint signs the head of the chain (the hash of the record before
 * it), its own seq and time, and the key id, with Ed25519. Because every record's hash covers the
 * one before, a valid signature vouches for every record up to the checkpoint.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../jsonrpc/canonical-json.ts';

/** What is signed. The tag keeps a checkpoint signature from being valid for anything else. */
export type CheckpointClaim = {
  readonly seq: number;
  readonly time: string;
  /** The hash of the last record the checkpoint covers. */
  readonly prevHash: string;
  readonly keyId: string;
};

const TAG = 'mcplane-audit-checkpoint-v1';

export function checkpointMessage(claim: CheckpointClaim): Buffer {
  const { seq, time, prevHash, keyId } = claim;
  return Buffer.from(canonicalJson({ tag: TAG, seq, time, prevHash, keyId }));
}

/** The signature, base64. */
export function signCheckpoint(claim: CheckpointClaim, privateKey: KeyObject): string {
  return sign(null, checkpointMessage(claim), privateKey).toString('base64');
}

export function checkpointSignatureValid(
  claim: CheckpointClaim,
  signature: string,
  publicKey: KeyObject,
): boolean {
  return verify(null, checkpointMessage(claim), publicKey, Buffer.from(signature, 'base64'));
}
