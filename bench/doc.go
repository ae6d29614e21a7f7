// Package bench measures policyflow against Temporal's own floor: `make bench` runs
// BenchmarkPolicyflow (bench_test.go), which starts a Temporal dev server and MariaDB
// through internal/testenv (or uses TEMPORAL_ADDRESS and POLICYFLOW_TEST_MYSQL_DSN), runs
// the API and the worker in-process, runs six scenarios, prints a table and writes
// BENCHMARKS.md. Every timing is a ratio to a baseline measured in the same run, or a
// count: the machines it runs on are shared and noisy.
//
// The benchmark is a Go benchmark so that it can use testenv's service starters; `go test
// ./...` runs only this package's cheap unit tests and starts nothing.
package bench
