package monitor

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/granter/runbook/internal/metrics"
)

// ConnectTimeout bounds opening the monitor's database session.
const ConnectTimeout = 10 * time.Second

// connectionsSQL counts the client sessions on the database (the monitor's
// own left out), by state.
const connectionsSQL = `SELECT coalesce(state, 'unknown'), count(*)
FROM pg_stat_activity
WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()
GROUP BY 1 ORDER BY 2 DESC`

// statementsSQL reads pg_stat_statements for the database: what "database
// query time" means on the server (execution only).
const statementsSQL = `SELECT s.userid::bigint, s.queryid, s.toplevel, s.calls, s.total_exec_time, left(s.query, 160)
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = $1 AND s.queryid IS NOT NULL`

// connect opens one short session on the target's database, as
// application runbook-monitor.
func (m *Monitor) connect(ctx context.Context) (*pgx.Conn, error) {
	db := m.tgt.Database
	cfg, err := pgx.ParseConfig(db.URL.Reveal())
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %s", db.URL, m.tgt.Redact(err.Error()))
	}
	if db.Name != "" {
		cfg.Database = db.Name
	}
	cfg.RuntimeParams["application_name"] = "runbook-monitor"
	cctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %s", cfg.Database, m.tgt.Redact(err.Error()))
	}
	return conn, nil
}

func (m *Monitor) hasDatabase() bool { return m.tgt.Database != nil && !m.tgt.Database.URL.IsZero() }

// connections: "Active connections: < 100", from pg_stat_activity.
func (m *Monitor) connections(ctx context.Context, conn *pgx.Conn, connErr error) Check {
	th := m.tgt.Thresholds.ActiveConnections
	c := Check{Metric: MetricConnections, Key: keyConnections, Source: "pg_stat_activity", Value: math.NaN(),
		Threshold: float64(th), ThresholdShown: fmt.Sprintf("< %d", th), Query: oneLine(connectionsSQL)}
	if !m.hasDatabase() {
		return skip(c, "the target gives no database access (database.urlEnv)")
	}
	if connErr != nil {
		return noData(c, connErr)
	}
	rows, err := conn.Query(ctx, connectionsSQL, m.tgt.Database.Name)
	if err != nil {
		return noData(c, fmt.Errorf("pg_stat_activity: %s", m.tgt.Redact(err.Error())))
	}
	total, parts := 0, []string{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			return noData(c, err)
		}
		total += n
		parts = append(parts, fmt.Sprintf("%d %s", n, state))
	}
	if err := rows.Err(); err != nil {
		return noData(c, fmt.Errorf("pg_stat_activity: %s", m.tgt.Redact(err.Error())))
	}
	c.Value, c.Shown, c.Status = float64(total), fmt.Sprint(total), below(float64(total), float64(th))
	if len(parts) > 0 {
		c.Detail = strings.Join(parts, ", ")
	}
	return c
}

// dbQuery: "Database query time: < 100ms". Two sources, each used when the
// target has it, the worse one judged:
//   - the services' own histogram (DBQueryMetric) p95 over the window, from
//     Prometheus: what a request waits for (pool and network included);
//   - pg_stat_statements, when the extension is loaded
//     (shared_preload_libraries) and created in the database: the mean
//     execution time per call since the previous round, and the slowest
//     statement.
//
// Neither available is NO DATA, naming why each was not.
func (m *Monitor) dbQuery(ctx context.Context, w time.Duration, conn *pgx.Conn, connErr error) Check {
	th := m.tgt.Thresholds.DBQuery.Seconds()
	c := Check{Metric: MetricDBQuery, Key: keyDBQuery, Window: w, Value: math.NaN(),
		Threshold: th, ThresholdShown: "< " + ms(th)}
	var sources, queries, details, missing []string
	worst := math.NaN()
	take := func(v float64) {
		if math.IsNaN(worst) || v > worst {
			worst = v
		}
	}

	if m.prom != nil {
		sel := strings.Trim(strings.TrimSpace(m.sel), "{}")
		q := fmt.Sprintf("histogram_quantile(0.95, sum by (le) (rate(%s_bucket{%s}[%s])))", DBQueryMetric, sel, short(w))
		cq := fmt.Sprintf("sum(increase(%s[%s]))", metrics.DBQuerySeriesExpr(m.sel), short(w))
		queries = append(queries, q)
		n, nerr := m.instantValue(ctx, cq)
		switch {
		case nerr != nil:
			missing = append(missing, fmt.Sprintf("%s: %v", DBQueryMetric, nerr))
		case math.IsNaN(n) || n < 1:
			missing = append(missing, fmt.Sprintf("%s: no query observed in %s (query: %s)", DBQueryMetric, short(w), cq))
		default:
			v, err := m.instantValue(ctx, q)
			if err != nil || math.IsNaN(v) {
				missing = append(missing, fmt.Sprintf("%s: p95 not computable (%v)", DBQueryMetric, err))
				break
			}
			take(v)
			sources = append(sources, DBQueryMetric)
			details = append(details, fmt.Sprintf("application p95 %s over %.0f queries", ms(v), n))
		}
	} else {
		missing = append(missing, DBQueryMetric+": the target has no Prometheus")
	}

	switch {
	case !m.hasDatabase():
		missing = append(missing, "pg_stat_statements: the target gives no database access")
	case connErr != nil:
		missing = append(missing, "pg_stat_statements: "+connErr.Error())
	default:
		queries = append(queries, oneLine(statementsSQL))
		mean, calls, slow, err := m.statements(ctx, conn)
		switch {
		case err != nil:
			missing = append(missing, "pg_stat_statements: "+err.Error())
		case calls == 0:
			missing = append(missing, "pg_stat_statements: no call since the previous round (the first round takes the baseline)")
		default:
			take(mean)
			sources = append(sources, "pg_stat_statements")
			d := fmt.Sprintf("server mean %s over %d calls", ms(mean), calls)
			if slow != "" {
				d += "; slowest " + slow
			}
			details = append(details, d)
		}
	}

	c.Query = strings.Join(queries, " ; ")
	c.Source = strings.Join(sources, " + ")
	if math.IsNaN(worst) {
		return noData(c, errors.New(strings.Join(missing, "; ")))
	}
	if len(missing) > 0 {
		details = append(details, "not used: "+strings.Join(missing, "; "))
	}
	c.Value, c.Shown, c.Status = worst, ms(worst), below(worst, th)
	c.Detail = strings.Join(details, "; ")
	return c
}

func (m *Monitor) instantValue(ctx context.Context, q string) (float64, error) {
	res, err := m.prom.Instant(ctx, q)
	if err != nil {
		return math.NaN(), err
	}
	v, ok := res.Value()
	if !ok {
		return math.NaN(), nil
	}
	return v, nil
}

type stmtKey struct {
	user, query int64
	top         bool
}

type stmtStat struct {
	calls int64
	ms    float64
	text  string
}

// statements reads pg_stat_statements and returns, since the previous
// round, the mean execution time per call (seconds), the number of calls
// and the slowest statement. The first reading only takes the baseline.
func (m *Monitor) statements(ctx context.Context, conn *pgx.Conn) (mean float64, calls int64, slowest string, err error) {
	rows, err := conn.Query(ctx, statementsSQL, m.tgt.Database.Name)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "55000") {
			return 0, 0, "", fmt.Errorf("not available (%s): load it with shared_preload_libraries=pg_stat_statements and CREATE EXTENSION pg_stat_statements", pe.Message)
		}
		return 0, 0, "", fmt.Errorf("%s", m.tgt.Redact(err.Error()))
	}
	now := map[stmtKey]stmtStat{}
	for rows.Next() {
		var k stmtKey
		var s stmtStat
		if err := rows.Scan(&k.user, &k.query, &k.top, &s.calls, &s.ms, &s.text); err != nil {
			rows.Close()
			return 0, 0, "", err
		}
		now[k] = s
	}
	if err := rows.Err(); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "55000") {
			return 0, 0, "", fmt.Errorf("not available (%s): load it with shared_preload_libraries=pg_stat_statements and CREATE EXTENSION pg_stat_statements", pe.Message)
		}
		return 0, 0, "", fmt.Errorf("%s", m.tgt.Redact(err.Error()))
	}
	prev := m.stmtPrev
	m.stmtPrev = now
	if prev == nil {
		return 0, 0, "", nil
	}
	var total float64
	type one struct {
		mean float64
		s    stmtStat
		n    int64
	}
	var all []one
	for k, s := range now {
		p := prev[k]
		dc, dt := s.calls-p.calls, s.ms-p.ms
		if dc < 0 || dt < 0 { // reset or evicted since: count it afresh
			dc, dt = s.calls, s.ms
		}
		if dc <= 0 {
			continue
		}
		calls += dc
		total += dt
		all = append(all, one{mean: dt / float64(dc), s: s, n: dc})
	}
	if calls == 0 {
		return 0, 0, "", nil
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mean > all[j].mean })
	top := all[0]
	slowest = fmt.Sprintf("%s mean over %d calls: %q", ms(top.mean/1000), top.n, oneLine(top.s.text))
	return total / float64(calls) / 1000, calls, slowest, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
