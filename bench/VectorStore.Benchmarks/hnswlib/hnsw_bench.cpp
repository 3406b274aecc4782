// Baseline for the VectorStore ANN benchmark: builds and queries hnswlib (header-only, Debian libhnswlib-dev)
// on exactly the files the C# benchmark uses, and prints machine-readable lines it parses.
// Usage: hnsw_bench base.fvecs query.fvecs groundtruth.ivecs M efConstruction threads ef1,ef2,... [k] [minQueries] [graph cache file]
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>
#include <sys/resource.h>
#include <time.h>

template <typename T>
static std::vector<std::vector<T>> read_vecs(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) { std::fprintf(stderr, "cannot open %s\n", path); std::exit(2); }
    std::vector<std::vector<T>> rows;
    int d;
    while (in.read(reinterpret_cast<char*>(&d), 4)) {
        std::vector<T> row(d);
        in.read(reinterpret_cast<char*>(row.data()), sizeof(T) * d);
        rows.push_back(std::move(row));
    }
    return rows;
}

static double thread_cpu_s() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double process_cpu_s() {
    rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename F>
static void parallel_for(size_t n, int threads, F f) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++)
        pool.emplace_back([&] { for (size_t i; (i = next.fetch_add(1)) < n;) f(i); });
    for (auto& th : pool) th.join();
}

int main(int argc, char** argv) {
    if (argc < 8) { std::fprintf(stderr, "usage: %s base query gt M efC threads efs [k] [minQueries]\n", argv[0]); return 2; }
    auto base = read_vecs<float>(argv[1]);
    auto queries = read_vecs<float>(argv[2]);
    auto truth = read_vecs<int>(argv[3]);
    int M = std::atoi(argv[4]), efc = std::atoi(argv[5]), threads = std::atoi(argv[6]);
    std::vector<int> efs;
    { std::stringstream ss(argv[7]); std::string item; while (std::getline(ss, item, ',')) efs.push_back(std::atoi(item.c_str())); }
    size_t k = argc > 8 ? std::atoi(argv[8]) : 10;
    size_t min_queries = argc > 9 ? std::atoi(argv[9]) : 2000;
    size_t n = base.size(), dim = base[0].size(), nq = queries.size();

    // Optional graph cache (argv[10]): load the graph saved by an earlier run on the same data instead of building
    // it, so a search-only re-measurement does not pay minutes of build (build times then print as 0).
    const char* cache = argc > 10 ? argv[10] : nullptr;
    hnswlib::L2Space space(dim);
    double t0 = now_s(), c0 = process_cpu_s();
    hnswlib::HierarchicalNSW<float>* index;
    if (cache && std::ifstream(cache).good()) {
        index = new hnswlib::HierarchicalNSW<float>(&space, cache, false, n);
        t0 = now_s(); c0 = process_cpu_s();
    } else {
        index = new hnswlib::HierarchicalNSW<float>(&space, n, M, efc, 100);
        index->addPoint(base[0].data(), 0); // hnswlib's own bindings insert the first point alone, too
        parallel_for(n - 1, threads, [&](size_t i) { index->addPoint(base[i + 1].data(), i + 1); });
        if (cache) index->saveIndex(cache);
    }
    double build = now_s() - t0, build_cpu = process_cpu_s() - c0;

    // Memory the index owns, counted from its own structures (hnswlib allocates max_elements up front).
    size_t upper = 0;
    for (size_t i = 0; i < n; i++) if (index->element_levels_[i] > 0) upper += index->size_links_per_element_ * index->element_levels_[i];
    size_t lookup = index->label_lookup_.bucket_count() * sizeof(void*) + index->label_lookup_.size() * (sizeof(void*) + sizeof(std::pair<hnswlib::labeltype, hnswlib::tableint>) + sizeof(size_t));
    size_t bytes = index->max_elements_ * index->size_data_per_element_ + upper
        + index->max_elements_ * (sizeof(std::mutex) + sizeof(int) + sizeof(void*)) + lookup;
    std::printf("build_seconds %.6f\nbuild_cpu_seconds %.6f\nmemory_bytes %zu\nelements %zu\n", build, build_cpu, bytes, n);

    for (int ef : efs) {
        index->setEf(std::max<size_t>(ef, k));
        // Recall and single-thread latency over every query, repeated to at least min_queries.
        size_t hits = 0;
        std::vector<double> lat;
        size_t rounds = std::max<size_t>(1, (min_queries + nq - 1) / nq);
        double s0 = now_s(), sc0 = thread_cpu_s();
        for (size_t r = 0; r < rounds; r++) {
            for (size_t q = 0; q < nq; q++) {
                double a = now_s();
                auto res = index->searchKnn(queries[q].data(), k);
                lat.push_back(now_s() - a);
                if (r == 0) {
                    std::unordered_set<int> gt(truth[q].begin(), truth[q].begin() + std::min(k, truth[q].size()));
                    while (!res.empty()) { hits += gt.count((int)res.top().second); res.pop(); }
                }
            }
        }
        double single = lat.size() / (now_s() - s0), single_cpu = lat.size() / (thread_cpu_s() - sc0);
        std::sort(lat.begin(), lat.end());
        double p50 = lat[lat.size() / 2] * 1e6, p99 = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)] * 1e6;
        size_t total = rounds * nq;
        double m0 = now_s();
        parallel_for(total, threads, [&](size_t i) { auto res = index->searchKnn(queries[i % nq].data(), k); (void)res; });
        double multi = total / (now_s() - m0);
        std::printf("ef %d recall %.6f qps1 %.1f qpsN %.1f p50us %.2f p99us %.2f qps1cpu %.1f\n", ef, (double)hits / (nq * k), single, multi, p50, p99, single_cpu);
    }
    delete index;
    return 0;
}
