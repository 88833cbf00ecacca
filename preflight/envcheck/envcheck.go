package envcheck

import (
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/pgbackup"
	"github.com/granter/runbook/internal/target"
)

// The sub-items, in the runbook's words.
const (
	StagingDeployment = "Staging deployment successful"
	StagingSmoke      = "Staging smoke tests passed"
	SecretsReady      = "Production secrets ready"
	MigrationsReady   = "Database migration scripts ready"
	itemNumber        = 5
)

// Timeouts.
const (
	// MigratorTimeout bounds one run of the migrator (status or run).
	MigratorTimeout = 5 * time.Minute
	// KubeTimeout bounds the Kubernetes reads of one sub-item.
	KubeTimeout = 30 * time.Second
	itemBudget  = 30 * time.Minute
)

// KubeClient makes a client for a kube context ("" is the kubeconfig's
// current one).
type KubeClient func(k *target.Kube, context string) (kubernetes.Interface, error)

// Option sets an optional setting of New.
type Option func(*config)

type config struct {
	kube        KubeClient
	migratorEnv []string
	backupDir   string
	pg          []pgbackup.Option
	now         func() time.Time
}

// WithKubeClient replaces the client built from the kubeconfig (tests:
// k8s.io/client-go/kubernetes/fake).
func WithKubeClient(fn KubeClient) Option { return func(c *config) { c.kube = fn } }

// WithMigratorEnv adds NAME=value variables to the migrator's environment
// (fault tests: GRANTER_FAULTS=platform.migration-fails).
func WithMigratorEnv(kv ...string) Option {
	return func(c *config) { c.migratorEnv = append(c.migratorEnv, kv...) }
}

// WithBackupDir reads and takes the fresh backup in dir instead of
// backup.dir (tests).
func WithBackupDir(dir string) Option { return func(c *config) { c.backupDir = dir } }

// WithBackupOptions passes options to pgbackup (progress, fault hooks).
func WithBackupOptions(opts ...pgbackup.Option) Option {
	return func(c *config) { c.pg = append(c.pg, opts...) }
}

// New returns checklist item 5 for tgt.
func New(tgt *target.Target, opts ...Option) flow.Flow {
	c := config{kube: kubeClient, backupDir: tgt.Backup.Dir, now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	it := &item{tgt: tgt, c: c}
	f := checklist.Flow(tgt, itemNumber, map[string]checklist.Check{
		StagingDeployment: it.stagingDeployment,
		StagingSmoke:      it.stagingSmoke,
		SecretsReady:      it.secrets,
		MigrationsReady:   it.migrations,
	})
	f.Timeout = itemBudget
	return f
}

type item struct {
	tgt *target.Target
	c   config
}
