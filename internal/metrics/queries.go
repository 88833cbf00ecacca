package metrics

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Metric names the Granter services expose (docs/API.md).
const (
	RequestsTotal   = "http_requests_total"           // counter {service,method,route,status}
	RequestDuration = "http_request_duration_seconds" // histogram {service,method,route}
	CPUSeconds      = "process_cpu_seconds_total"
	ResidentMemory  = "process_resident_memory_bytes"
	// DBQueryDuration is one database query as the service saw it (pool
	// wait and network included): histogram {service,outcome}.
	DBQueryDuration = "granter_db_query_duration_seconds"
)

// serverErrors matches the statuses that count as errors: every 5xx.
const serverErrors = `status=~"5.."`

// selector joins label matchers into the inside of a PromQL selector. Each
// argument is a comma-separated matcher list with or without braces, e.g.
// `service="backend-core"` or `{job="x"}`; empty arguments are dropped.
func selector(parts ...string) string {
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		p = strings.TrimPrefix(p, "{")
		p = strings.TrimSuffix(p, "}")
		p = strings.Trim(strings.TrimSpace(p), ",")
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ",")
}

// series is metric{matchers}.
func series(metric string, matchers ...string) string {
	return metric + "{" + selector(matchers...) + "}"
}

// promDuration prints d as PromQL writes durations: 5m, 1m30s, 200ms.
func promDuration(d time.Duration) string { return model.Duration(d).String() }

// UserTraffic is the matcher that keeps the services' real requests: the
// monitoring's own scrapes, the health probes and the fault switches
// always succeed and would dilute an error rate into a false healthy, and
// pad a sample with requests nobody made.
const UserTraffic = `route!~"/metrics|/health|/health/.*|/__faults.*"`

// UserRequests adds UserTraffic to a selector.
func UserRequests(sel string) string {
	return strings.Trim(strings.Join([]string{sel, UserTraffic}, ","), ",")
}

// ErrorRatioExpr is the error ratio over window: 5xx requests / all requests,
// summed over every series the selector picks. The numerator falls back to 0
// when no 5xx series exists at all, so a service that never failed reads 0,
// not "no data" (the request count decides "no data").
func ErrorRatioExpr(sel string, window time.Duration) string {
	w := promDuration(window)
	return fmt.Sprintf("(sum(rate(%s[%s])) or vector(0)) / sum(rate(%s[%s]))",
		series(RequestsTotal, serverErrors, sel), w, series(RequestsTotal, sel), w)
}

// RequestCountExpr is the number of requests in window.
func RequestCountExpr(sel string, window time.Duration) string {
	return fmt.Sprintf("sum(increase(%s[%s]))", series(RequestsTotal, sel), promDuration(window))
}

// RequestsByServiceExpr is the number of requests in window per service
// (the "service" label every Granter service sets), so a service whose
// series vanished shows as missing instead of dropping out of a sum.
func RequestsByServiceExpr(sel string, window time.Duration) string {
	return fmt.Sprintf("sum by (service) (increase(%s[%s]))", series(RequestsTotal, sel), promDuration(window))
}

// LatencyBucketsExpr is the request-latency histogram over window per
// service and route: the cumulative count at or under each bucket bound
// (le).
func LatencyBucketsExpr(sel string, window time.Duration) string {
	return fmt.Sprintf("sum by (service, route, le) (increase(%s[%s]))", series(RequestDuration+"_bucket", sel), promDuration(window))
}

// StatusSeriesExpr selects the counters of the answers with status on one
// service's route: one series per process (read them with Counters).
func StatusSeriesExpr(sel, service, route string, status int) string {
	return series(RequestsTotal, sel, fmt.Sprintf(`service=%q,route=%q,status="%d"`, service, route, status))
}

// DBQuerySeriesExpr selects the services' counts of observed database
// queries (DBQueryDuration's _count): one series per process and outcome.
func DBQuerySeriesExpr(sel string) string {
	return series(DBQueryDuration+"_count", sel)
}

// ErrorCountExpr is the number of 5xx requests in window.
func ErrorCountExpr(sel string, window time.Duration) string {
	return fmt.Sprintf("sum(increase(%s[%s]))", series(RequestsTotal, serverErrors, sel), promDuration(window))
}

// QuantileExpr is the q-quantile of request latency in seconds over window,
// from the http_request_duration_seconds histogram.
func QuantileExpr(q float64, sel string, window time.Duration) string {
	return fmt.Sprintf("histogram_quantile(%g, sum by (le) (rate(%s[%s])))",
		q, series(RequestDuration+"_bucket", sel), promDuration(window))
}

// LatencyCountExpr is the number of observed requests in window, from the
// histogram's _count series.
func LatencyCountExpr(sel string, window time.Duration) string {
	return fmt.Sprintf("sum(increase(%s[%s]))", series(RequestDuration+"_count", sel), promDuration(window))
}

// CPUExpr is CPU use per service in cores (1 = one full core) over window.
func CPUExpr(sel string, window time.Duration) string {
	return fmt.Sprintf("sum by (service) (rate(%s[%s]))", series(CPUSeconds, sel), promDuration(window))
}

// MemoryExpr is resident memory per service in bytes.
func MemoryExpr(sel string) string {
	return fmt.Sprintf("sum by (service) (%s)", series(ResidentMemory, sel))
}
