// Building (or extending) one HNSW shard file in C++: hnswlib's insertion on one thread, hnswlib-node's bytes.
#pragma once
#include <cstddef>
#include <cstdint>

struct HnswBuildArgs {
  /** Row-major [n × dim] unit vectors and their labels, inserted in this order. */
  const float* vectors;
  const int32_t* labels;
  size_t n;
  int dim;
  int m;
  int ef_construction;
  /** hnswlib's level-generator seed (a new shard only). */
  uint32_t seed;
  /** Shard file to extend, or null for a new shard. */
  const char* from;
  /** Where the shard is written. */
  const char* out;
};

/** Build the shard and write it: hnswlib-node's file byte for byte. Returns the element count; throws
 *  std::exception on a bad file or size. */
size_t hnsw_build(const HnswBuildArgs& a);
