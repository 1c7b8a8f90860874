// Batched multi-threaded search over gist's HNSW shard files (see hnsw_search.cc).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

struct HnswShardSet;

/** Load shard files (hnswlib inner-product space, dimension dim) and set ef on each; throws on a bad file. */
HnswShardSet* hnsw_open(const std::vector<std::string>& files, int dim, int ef);
void hnsw_close(HnswShardSet* set);
/** Dimension of the vectors. */
int hnsw_dim(const HnswShardSet* set);
/** Distance kernels in use: "avx512" or "sse" (the latter's results equal hnswlib-node's). */
const char* hnsw_isa();
/** Top-k per query (row-major [n × dim] in, [n × k] out: labels, distances 1 − cos; −1 / +∞ pads) on `threads` threads. */
void hnsw_search(const HnswShardSet* set, const float* queries, size_t n, int k, int threads, int32_t* labels, float* distances);
