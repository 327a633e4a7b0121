/**
 * Seeded weight initialisers: every layer's initialiser gets its own seed, derived from the model
 * seed, the architecture's name and the layer's name. So the same spec and seed give identical
 * weights; a layer's weights do not depend on how many random numbers other layers drew; and two
 * architectures built with the same seed (resnet-20 and resnet-56, whose stems have the same
 * shape) do not start from shared weights, which would inflate their similarity.
 */
import * as tfl from '@tensorflow/tfjs-layers';

export type Initializer = ReturnType<typeof tfl.initializers.varianceScaling>;

/**
 * A seed in [1, 2³¹) for one layer of one architecture. Never 0: tfjs treats a falsy seed as
 * "unseeded" in truncatedNormal and would draw from Math.random.
 */
export function layerSeed(modelSeed: number, architectureName: string, layerName: string): number {
  const key = `${architectureName}:${layerName}`;
  // FNV-1a over the name's UTF-16 units, then the seed's low and high 32 bits, finished with
  // MurmurHash3's fmix32 so that nearby seeds give unrelated streams.
  let hash = 0x811c9dc5;
  const mix = (value: number): void => {
    hash = Math.imul(hash ^ value, 0x01000193) >>> 0;
  };
  for (let i = 0; i < key.length; i++) mix(key.charCodeAt(i));
  const low = modelSeed >>> 0;
  const high = Math.floor(modelSeed / 2 ** 32) >>> 0;
  for (const word of [low, high]) for (let shift = 0; shift < 32; shift += 8) mix((word >>> shift) & 0xff);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35) >>> 0;
  hash ^= hash >>> 16;
  return (hash & 0x7fffffff) || 1;
}

/** Standard deviation of a unit normal truncated to [−2, 2] (the constant Keras uses). */
const UNIT_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978;

/**
 * Keras 2 `he_normal`: a normal truncated at 2σ whose *actual* standard deviation is
 * √(2 / fan_in) — Keras divides the σ it draws with by 0.8796 to undo the truncation. tfjs's
 * `heNormal` skips that correction (its weights come out ~12% smaller), so scale it here.
 */
export function kerasHeNormal(seed: number): Initializer {
  return tfl.initializers.varianceScaling({
    scale: 2 / UNIT_TRUNCATED_NORMAL_STDDEV ** 2,
    mode: 'fanIn',
    distribution: 'normal', // tfjs draws 'normal' from a truncated normal, like Keras 'truncated_normal'
    seed,
  });
}

/** Keras' default kernel initialiser (Conv2D, Dense): uniform in ±√(6 / (fan_in + fan_out)); tfjs matches it. */
export function glorotUniform(seed: number): Initializer {
  return tfl.initializers.glorotUniform({ seed });
}
