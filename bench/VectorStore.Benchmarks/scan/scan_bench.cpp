// Exact-scan baselines for the VectorStore exact benchmark: hnswlib BruteforceSearch (Debian libhnswlib-dev)
// and, when built with -DWITH_FAISS, FAISS IndexFlat (Debian libfaiss-dev), on exactly the files the C#
// benchmark writes. Prints machine-readable lines that ExactBenchmark parses.
// Usage: scan_bench base.fvecs query.fvecs metric(ip|l2) k singleQueries batch1,batch2,... threads
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <time.h>

#ifdef WITH_FAISS
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexScalarQuantizer.h>
#include <omp.h>
#endif

static std::vector<float> read_fvecs(const char* path, size_t& dim, size_t& rows) {
    std::ifstream in(path, std::ios::binary);
    if (!in) { std::fprintf(stderr, "cannot open %s\n", path); std::exit(2); }
    std::vector<float> data;
    int d = 0;
    rows = 0;
    while (in.read(reinterpret_cast<char*>(&d), 4)) {
        size_t at = data.size();
        data.resize(at + d);
        in.read(reinterpret_cast<char*>(data.data() + at), sizeof(float) * d);
        rows++;
    }
    dim = d;
    return data;
}

static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Single-query rows are timed in thread CPU time, like the C# side: on a shared machine wall time mostly
// measures the scheduler. Best of several rounds.
static double thread_cpu_s() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

template <typename F>
static double best_ms_per_query(size_t queries, F f) {
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        double t0 = thread_cpu_s();
        for (size_t q = 0; q < queries; q++) f(q);
        best = std::min(best, (thread_cpu_s() - t0) * 1e3 / queries);
    }
    return best;
}

int main(int argc, char** argv) {
    if (argc < 8) { std::fprintf(stderr, "usage: %s base query ip|l2 k singleQueries batches threads\n", argv[0]); return 2; }
    size_t dim, n, qdim, nq;
    auto base = read_fvecs(argv[1], dim, n);
    auto queries = read_fvecs(argv[2], qdim, nq);
    bool ip = std::string(argv[3]) == "ip";
    size_t k = std::atoi(argv[4]);
    size_t single = std::min<size_t>(std::atoi(argv[5]), nq);
    std::vector<size_t> batches;
    { std::stringstream ss(argv[6]); std::string item; while (std::getline(ss, item, ',')) if (!item.empty()) batches.push_back(std::atoi(item.c_str())); }
    int threads = std::atoi(argv[7]);

    {
        hnswlib::InnerProductSpace ipSpace(dim);
        hnswlib::L2Space l2Space(dim);
        hnswlib::SpaceInterface<float>* space = ip ? static_cast<hnswlib::SpaceInterface<float>*>(&ipSpace) : &l2Space;
        hnswlib::BruteforceSearch<float> bf(space, n);
        for (size_t i = 0; i < n; i++) bf.addPoint(base.data() + i * dim, i);
        size_t checksum = 0;
        for (size_t q = 0; q < 2; q++) checksum += bf.searchKnn(queries.data() + q * dim, k).top().second; // warm-up
        double ms = best_ms_per_query(single, [&](size_t q) { checksum += bf.searchKnn(queries.data() + q * dim, k).top().second; });
        std::printf("hnswlib_bf_ms %.6f\n", ms);
        std::fprintf(stderr, "checksum %zu\n", checksum);
    }

#ifdef WITH_FAISS
    {
        faiss::IndexFlat index(dim, ip ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2);
        index.add(n, base.data());
        std::vector<float> distances(k * nq);
        std::vector<faiss::Index::idx_t> labels(k * nq);
        omp_set_num_threads(1);
        index.search(1, queries.data(), k, distances.data(), labels.data()); // warm-up
        double ms = best_ms_per_query(single, [&](size_t q) { index.search(1, queries.data() + q * dim, k, distances.data(), labels.data()); });
        std::printf("faiss_flat_ms %.6f\n", ms);
        {
            // int8 per-dimension ranges, like ours (no rescoring inside FAISS: this is the code scan alone).
            faiss::IndexScalarQuantizer sq(dim, faiss::ScalarQuantizer::QT_8bit, ip ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2);
            sq.train(n, base.data());
            sq.add(n, base.data());
            sq.search(1, queries.data(), k, distances.data(), labels.data());
            double sqms = best_ms_per_query(single, [&](size_t q) { sq.search(1, queries.data() + q * dim, k, distances.data(), labels.data()); });
            std::printf("faiss_sq8_ms %.6f\n", sqms);
        }
        {
            // Sign bits packed into bytes, Hamming distance.
            size_t bytes = (dim + 7) / 8;
            std::vector<uint8_t> codes(n * bytes, 0), qcodes(nq * bytes, 0);
            for (size_t i = 0; i < n * dim; i++) if (base[i] > 0) codes[(i / dim) * bytes + (i % dim) / 8] |= 1 << ((i % dim) % 8);
            for (size_t i = 0; i < nq * dim; i++) if (queries[i] > 0) qcodes[(i / dim) * bytes + (i % dim) / 8] |= 1 << ((i % dim) % 8);
            faiss::IndexBinaryFlat bin(bytes * 8);
            bin.add(n, codes.data());
            std::vector<int32_t> hd(k);
            bin.search(1, qcodes.data(), k, hd.data(), labels.data());
            double bms = best_ms_per_query(single, [&](size_t q) { bin.search(1, qcodes.data() + q * bytes, k, hd.data(), labels.data()); });
            std::printf("faiss_binary_ms %.6f\n", bms);
        }
        omp_set_num_threads(threads);
        for (size_t b : batches) {
            b = std::min(b, nq);
            index.search(b, queries.data(), k, distances.data(), labels.data()); // warm-up
            double best = 1e30;
            for (int round = 0; round < 3; round++) {
                double t1 = now_s();
                index.search(b, queries.data(), k, distances.data(), labels.data());
                best = std::min(best, (now_s() - t1) * 1e3);
            }
            std::printf("faiss_flat_batch %zu %.6f\n", b, best);
        }
    }
#endif
    return 0;
}
