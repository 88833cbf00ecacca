package backup

import (
	"sort"

	"github.com/granter/runbook/internal/pgbackup"
)

func sortedTables(m map[string]pgbackup.TableStat) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
