#!/usr/bin/env python3
"""Throughput and single-image latency of the NATS cluster (docs/SCALING.md), from per-task costs.

A job is split into lane groups of 4 ciphertexts; each group is one task. A worker spends, per task,
  compute + input transfer + result transfer (+ key fetch and parse the first time it sees a client's keys).
Every byte goes through the busiest NATS node's link: with R stream replicas that node (the streams' leader, in the
worst case one node leads all three streams) sends each published byte to R - 1 followers and once more to its
reader, so R copies leave it. One reader is also capped by the blob store's read rate (one ordered consumer,
measured on loopback: it is CPU-bound in client and server, not link-bound).
The model is deliberately simple: workers are identical, tasks are independent, the link is the only shared
resource, and the front end's splitting and assembling (a few seconds per job) is counted once per job.

    python3 scripts/scaling_model.py                       # the default model's figures, see docs/SCALING.md
    python3 scripts/scaling_model.py --compute-s 20 ...    # other assumptions
"""
import argparse
import math

# Measured through the cluster on loopback (bench/cluster_scaling, docs/SCALING.md "Measured"): one worker fetched a
# 323 MiB (338.7 MB) key bundle from the blob store in 3.67-4.23 s and parsed it in 2.24-3.32 s, on a 2-core machine
# at load average 7-16; the slower of each pair is used.
FETCH_MBS = 338.7 / 4.23
PARSE_MBS = 338.7 / 3.32


def simulate(workers, gbit, a):
    link = gbit * 1e9 / 8  # bytes/s
    reader = min(link, a.fetch_mbs * 1e6)  # one worker's transfer rate
    task_bytes = a.input_mb * 1e6 + a.output_mb * 1e6
    transfer = task_bytes / reader  # seconds per task on an otherwise idle link
    task = a.compute_s + transfer
    # Jobs per hour in steady state (keys already cached): workers or the busiest link, whichever saturates first.
    tasks_per_s = min(workers / task, link / (a.replicas * task_bytes))
    jobs_per_hour = 3600 * tasks_per_s / a.groups
    # One image alone on a cold cluster: every worker used fetches the keys once, through the same link.
    used = min(workers, a.groups)
    keys = a.keys_mb * 1e6
    key_fetch = max(used * keys / link, keys / reader) + (a.replicas - 1) * keys / link + a.keys_mb / a.parse_mbs
    rounds = math.ceil(a.groups / used)
    latency = a.frontend_s + key_fetch + rounds * task
    warm_latency = a.frontend_s + rounds * task
    return jobs_per_hour, latency, warm_latency


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--groups", type=int, default=13, help="lane groups per image (1024x1024: ~100 tiles, 2 per ct)")
    p.add_argument("--compute-s", type=float, default=214, help="one group of 4 ciphertexts on one worker (2 cores)")
    p.add_argument("--input-mb", type=float, default=50, help="a group's input ciphertexts")
    p.add_argument("--output-mb", type=float, default=4, help="a group's result ciphertexts")
    p.add_argument("--keys-mb", type=float, default=1900, help="the evaluation-key bundle")
    p.add_argument("--parse-mbs", type=float, default=PARSE_MBS, help="key-bundle parse rate on a worker, MB/s")
    p.add_argument("--fetch-mbs", type=float, default=FETCH_MBS, help="one worker's blob read rate, MB/s")
    p.add_argument("--replicas", type=int, default=3, help="JetStream replicas of the streams (--nats-replicas)")
    p.add_argument("--frontend-s", type=float, default=30, help="front end per job: key parse, split, assemble")
    a = p.parse_args()
    print(f"assumptions: {vars(a)}")
    print(f"{'workers':>8} {'link':>9} {'jobs/hour':>10} {'image latency cold':>19} {'warm':>8}")
    for gbit in (1, 10):
        for workers in (1, 8, 64, 512):
            jph, cold, warm = simulate(workers, gbit, a)
            print(f"{workers:>8} {gbit:>5} Gb/s {jph:>10.1f} {cold / 60:>15.1f} min {warm / 60:>5.1f} min")


if __name__ == "__main__":
    main()
