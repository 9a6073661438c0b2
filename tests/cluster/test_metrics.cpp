// The cluster's /metrics lines: exact exposition text for known observations (Prometheus text format 0.0.4).
#include <gtest/gtest.h>

#include "cluster/cluster_metrics.h"
#include "serve/metrics.h"

namespace cryptounet::cluster {
namespace {

TEST(Histogram, CountsAreCumulativeWithSumAndCount) {
  serve::Histogram h({1, 10});
  for (const double v : {0.5, 1.0, 3.0, 50.0}) h.observe(v);
  std::string out;
  h.render(out, "x_seconds", "kind=\"a\"");
  EXPECT_EQ(out,
            "x_seconds_bucket{kind=\"a\",le=\"1\"} 2\n"
            "x_seconds_bucket{kind=\"a\",le=\"10\"} 3\n"
            "x_seconds_bucket{kind=\"a\",le=\"+Inf\"} 4\n"
            "x_seconds_sum{kind=\"a\"} 54.500000\n"
            "x_seconds_count{kind=\"a\"} 4\n");
}

TEST(Histogram, LabelValuesAreEscaped) {
  EXPECT_EQ(serve::escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TaskResult result_of(const std::string& worker, bool keys_cached, double compute_s) {
  TaskResult r;
  r.worker = worker;
  r.keys_cached = keys_cached;
  r.compute_s = compute_s;
  return r;
}

TEST(ClusterMetrics, Exposition) {
  ClusterMetrics m;
  m.task_done(result_of("w1", false, 2.5), 4.0);
  m.task_done(result_of("w1", true, 1.5), 20.0);
  m.task_done(result_of("w\"2", true, 3.0), std::nullopt);  // replayed after a restart: no latency known
  m.task_gave_up();
  m.job_done(true, 30.0);
  m.job_done(false, 0.5);
  const std::string out = m.render(QueueState{3, 2, 1, 2});
  const auto has = [&](const std::string& line) { return out.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("cryptounet_cluster_task_queues 2"));
  EXPECT_TRUE(has("# TYPE cryptounet_cluster_tasks gauge"));
  EXPECT_TRUE(has("cryptounet_cluster_tasks{state=\"pending\"} 3"));
  EXPECT_TRUE(has("cryptounet_cluster_tasks{state=\"in_flight\"} 2"));
  EXPECT_TRUE(has("cryptounet_cluster_tasks{state=\"redelivered\"} 1"));
  EXPECT_TRUE(has("cryptounet_cluster_tasks_gave_up_total 1"));
  EXPECT_TRUE(has("cryptounet_cluster_worker_tasks_total{worker=\"w1\"} 2"));
  EXPECT_TRUE(has("cryptounet_cluster_worker_tasks_total{worker=\"w\\\"2\"} 1"));
  EXPECT_TRUE(has("cryptounet_cluster_worker_compute_seconds_total{worker=\"w1\"} 4.000000"));
  EXPECT_TRUE(has("cryptounet_cluster_key_cache_total{worker=\"w1\",result=\"hit\"} 1"));
  EXPECT_TRUE(has("cryptounet_cluster_key_cache_total{worker=\"w1\",result=\"miss\"} 1"));
  EXPECT_TRUE(has("cryptounet_cluster_key_cache_total{worker=\"w\\\"2\",result=\"hit\"} 1"));
  EXPECT_TRUE(has("# TYPE cryptounet_cluster_task_seconds histogram"));
  EXPECT_TRUE(has("cryptounet_cluster_task_seconds_bucket{le=\"5\"} 1"));
  EXPECT_TRUE(has("cryptounet_cluster_task_seconds_bucket{le=\"30\"} 2"));
  EXPECT_TRUE(has("cryptounet_cluster_task_seconds_bucket{le=\"+Inf\"} 2"));
  EXPECT_TRUE(has("cryptounet_cluster_task_seconds_sum 24.000000"));
  EXPECT_TRUE(has("cryptounet_cluster_task_seconds_count 2"));
  EXPECT_TRUE(has("cryptounet_cluster_job_seconds_bucket{outcome=\"succeeded\",le=\"15\"} 0"));
  EXPECT_TRUE(has("cryptounet_cluster_job_seconds_bucket{outcome=\"succeeded\",le=\"30\"} 1"));
  EXPECT_TRUE(has("cryptounet_cluster_job_seconds_count{outcome=\"failed\"} 1"));
}

TEST(ClusterMetrics, NoQueueLinesWhenTheServerDidNotAnswer) {
  const std::string out = ClusterMetrics().render(std::nullopt);
  EXPECT_EQ(out.find("cryptounet_cluster_tasks{"), std::string::npos);
  EXPECT_EQ(out.find("cryptounet_cluster_task_queues"), std::string::npos);
  EXPECT_NE(out.find("cryptounet_cluster_task_seconds_count 0\n"), std::string::npos);
}

TEST(ClusterMetrics, WorkersPastTheLimitAreCountedTogether) {
  ClusterMetrics m;
  for (std::size_t i = 0; i < ClusterMetrics::kMaxWorkers + 5; ++i)
    m.task_done(result_of("worker-" + std::to_string(i), false, 1.0), std::nullopt);
  const std::string out = m.render(std::nullopt);
  EXPECT_NE(out.find("cryptounet_cluster_worker_tasks_total{worker=\"other\"} 5\n"), std::string::npos);
}

}  // namespace
}  // namespace cryptounet::cluster
