"""Debian's python3-hnswlib on the same vectors as gist's build-index bench: build (M, efConstruction, seed),
then knn_query at each ef, with `threads` threads. Reads raw float32/int32 files written by bench/retrieval.ts
and prints one JSON object; a missing module is reported, not raised.

usage: hnswlib_peer.py DIR N NQ DIM M EF_CONSTRUCTION SEED THREADS K EF[,EF...]
  DIR/base.f32 [N x DIM], DIR/queries.f32 [NQ x DIM], DIR/truth.i32 [NQ x K] (exact top-K labels)
"""
import json
import sys
import time


def main():
    d, n, nq, dim, m, efc, seed, threads, k = sys.argv[1], *map(int, sys.argv[2:10])
    efs = [int(x) for x in sys.argv[10].split(",")]
    try:
        import numpy as np
        import hnswlib
    except ImportError as err:
        print(json.dumps({"inserts_per_s": None, "reason": f"{err}; apt-get install python3-hnswlib python3-numpy"}))
        return
    base = np.fromfile(f"{d}/base.f32", dtype=np.float32).reshape(n, dim)
    queries = np.fromfile(f"{d}/queries.f32", dtype=np.float32).reshape(nq, dim)
    truth = np.fromfile(f"{d}/truth.i32", dtype=np.int32).reshape(nq, k)
    index = hnswlib.Index(space="cosine", dim=dim)
    index.init_index(max_elements=n, ef_construction=efc, M=m, random_seed=seed)
    index.set_num_threads(threads)
    t = time.perf_counter()
    index.add_items(base, np.arange(n), num_threads=threads)
    build_s = time.perf_counter() - t
    search = []
    for ef in efs:
        index.set_ef(ef)
        index.knn_query(queries[: min(nq, 100)], k=k, num_threads=threads)  # warm up
        t = time.perf_counter()
        labels, _ = index.knn_query(queries, k=k, num_threads=threads)
        dt = time.perf_counter() - t
        hits = sum(len(set(labels[i].tolist()) & set(truth[i].tolist())) for i in range(nq))
        search.append({"ef": ef, "qps": nq / dt, "recall_at_10": hits / (nq * k)})
    print(json.dumps({
        "inserts_per_s": n / build_s,
        "build_seconds": build_s,
        "threads": threads,
        "search": search,
        "hnswlib": getattr(hnswlib, "__version__", "debian python3-hnswlib"),
    }))


if __name__ == "__main__":
    main()
