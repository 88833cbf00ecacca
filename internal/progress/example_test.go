package progress_test

import (
	"os"
	"time"

	"github.com/granter/runbook/internal/progress"
)

// A backup reports how much it has dumped; the clock is faked here so the
// output is fixed. In real use, drop WithClock and NoTicker: a ticker
// prints a line every 5 s even while the dump is stuck.
func Example() {
	now := time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	p := progress.New(os.Stdout, "backup: dumping granter_db", 40_000_000,
		progress.Approx(), progress.NoTicker(), progress.WithClock(clock))
	for _, mb := range []int64{4, 8, 12} {
		now = now.Add(3 * time.Second) // the dump goes on...
		p.Update(mb * 1_000_000)       // printed at most every 5 s
	}
	now = now.Add(5 * time.Second)
	p.Update(39_800_000)
	if err := p.Done("done"); err != nil {
		panic(err)
	}
	// Output:
	// backup: dumping granter_db… started: 0.0 MB of ~40.0 MB
	// backup: dumping granter_db… 8.0 MB of ~40.0 MB (20%), 6s
	// backup: dumping granter_db… 39.8 MB of ~40.0 MB (99%), 14s
	// backup: dumping granter_db… done: 39.8 MB of ~40.0 MB, 14s
}

// A rollout wait counts ready pods.
func Example_rollout() {
	now := time.Date(2026, 3, 3, 14, 26, 0, 0, time.UTC)
	p := progress.New(os.Stdout, "rollout backend-core", 3, progress.In(progress.Count("pods ready")),
		progress.NoTicker(), progress.WithClock(func() time.Time { return now }))
	now = now.Add(12 * time.Second)
	p.Note("ReplicaSet backend-core-7d9f: 2 updated")
	p.Update(2)
	now = now.Add(20 * time.Second)
	p.Update(3)
	_ = p.Done("complete")
	// Output:
	// rollout backend-core… started: 0 of 3 pods ready
	// rollout backend-core… 2 of 3 pods ready (66%), 12s — ReplicaSet backend-core-7d9f: 2 updated
	// rollout backend-core… 3 of 3 pods ready (100%), 32s — ReplicaSet backend-core-7d9f: 2 updated
	// rollout backend-core… complete: 3 of 3 pods ready, 32s — ReplicaSet backend-core-7d9f: 2 updated
}
