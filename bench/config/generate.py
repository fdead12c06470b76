#!/usr/bin/env python3
"""Writes a rampart.json with N destinations in clusters of up to PER_CLUSTER (default 1,000): generate.py N [PORT] [PER_CLUSTER]."""
import json, sys

n = int(sys.argv[1])
port = int(sys.argv[2]) if len(sys.argv) > 2 else 18080
per_cluster = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
clusters = {}
routes = []
for c in range((n + per_cluster - 1) // per_cluster):
    count = min(per_cluster, n - c * per_cluster)
    destinations = {f"d{i}": {"Address": f"http://10.{(c >> 8) & 255}.{c & 255}.{i % 250 + 1}:{8000 + i // 250}"} for i in range(count)}
    clusters[f"c{c}"] = {"Destinations": destinations, "HealthCheck": {"Passive": {"ConsecutiveFailures": 3}}, "AttemptTimeout": "00:00:02"}
    routes.append({"Id": f"r{c}", "Match": {"Path": f"/c{c}/{{**rest}}"}, "Cluster": f"c{c}"})
print(json.dumps({"Rampart": {"Listen": [f"http://127.0.0.1:{port}"], "Admin": {"Listen": f"http://127.0.0.1:{port + 1}"},
                              "Routes": routes, "Clusters": clusters}}))
