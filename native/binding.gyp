{
  "targets": [
    {
      "target_name": "gist_native",
      "sources": ["binding.cc", "gsu_topk.cc", "hnsw_search.cc", "hnsw_build.cc", "mlp_attention.cc", "gemm.cc", "rows.cc", "esu_candidates.cc", "pair_ranks.cc"],
      "include_dirs": ["<!(node -p \"require('path').join(require('path').dirname(require.resolve('hnswlib-node/package.json')), 'src', 'hnswlib')\")"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-ffp-contract=off", "-pthread", "-Wno-type-limits", "-Wno-unused-function", "-Wno-psabi"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-pthread"]
    }
  ]
}
