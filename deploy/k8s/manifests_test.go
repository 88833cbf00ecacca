package k8s_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/granter/runbook/internal/target"
	"github.com/granter/runbook/monitor"
)

// Files are the manifests, in the order they are applied.
var files = []string{"monitor-access.yaml", "monitor-job.yaml"}

// watchMargin is what the Job's deadline must leave beyond the schedule:
// the last round runs at the end of it and reads Prometheus, the database
// and the smoke flows.
const watchMargin = 15 * time.Minute

// documents reads every YAML document of file as unstructured objects.
func documents(tb testing.TB, file string) []*unstructured.Unstructured {
	tb.Helper()
	data, err := os.ReadFile(file)
	require.NoError(tb, err)
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(tb, err, "%s: document %d", file, len(out)+1)
		if obj != nil {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

// manifests holds the typed objects of every file.
type manifests struct {
	job         *batchv1.Job
	role        *rbacv1.Role
	binding     *rbacv1.RoleBinding
	account     *corev1.ServiceAccount
	namespaces  map[string]string // "Kind/name" -> namespace
	objectCount int
}

func load(tb testing.TB) manifests {
	tb.Helper()
	m := manifests{namespaces: map[string]string{}}
	for _, f := range files {
		for _, u := range documents(tb, f) {
			data, err := u.MarshalJSON()
			require.NoError(tb, err)
			obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
			require.NoError(tb, err, "%s: %s/%s", f, u.GetKind(), u.GetName())
			m.namespaces[u.GetKind()+"/"+u.GetName()+u.GetGenerateName()] = u.GetNamespace()
			m.objectCount++
			switch o := obj.(type) {
			case *batchv1.Job:
				m.job = o
			case *rbacv1.Role:
				m.role = o
			case *rbacv1.RoleBinding:
				m.binding = o
			case *corev1.ServiceAccount:
				m.account = o
			}
		}
	}
	require.NotNil(tb, m.job, "no Job in %v", files)
	require.NotNil(tb, m.role, "no Role in %v", files)
	require.NotNil(tb, m.binding, "no RoleBinding in %v", files)
	require.NotNil(tb, m.account, "no ServiceAccount in %v", files)
	return m
}

// prodTarget is environments/prod.yaml, with stand-in secrets.
func prodTarget(tb testing.TB) *target.Target {
	tb.Helper()
	tgt, err := target.LoadFile(filepath.Join("..", "..", "environments", "prod.yaml"), func(name string) (string, bool) {
		switch {
		case strings.HasSuffix(name, "DATABASE_URL"):
			return "postgres://u:p@db.example.com/granter_db", true
		case strings.HasSuffix(name, "_URL"):
			return "https://hooks.example.com/x", true
		}
		return "", false
	})
	require.NoError(tb, err)
	require.NotNil(tb, tgt.Kube, "environments/prod.yaml has no kube: section")
	return tgt
}

// The watch as the runbook runs it: once (no retry, no restart), for
// longer than the schedule, in the namespace of environments/prod.yaml.
func TestMonitorJob(t *testing.T) {
	m := load(t)
	tgt := prodTarget(t)
	spec := m.job.Spec

	for obj, ns := range m.namespaces {
		assert.Equal(t, tgt.Kube.Namespace, ns, "%s: namespace (kube.namespace of %s)", obj, tgt.File)
	}
	assert.Equal(t, corev1.RestartPolicyNever, spec.Template.Spec.RestartPolicy, "Job restartPolicy: a failed watch must not start again")
	if assert.NotNil(t, spec.BackoffLimit, "Job backoffLimit unset (default 6 retries)") {
		assert.Zero(t, *spec.BackoffLimit, "Job backoffLimit: a watch that passes on its second try has not passed")
	}
	sch, err := monitor.ParseSchedule(monitor.RunbookSchedule)
	require.NoError(t, err)
	want := sch.Total() + watchMargin
	if assert.NotNil(t, spec.ActiveDeadlineSeconds, "Job activeDeadlineSeconds unset") {
		got := time.Duration(*spec.ActiveDeadlineSeconds) * time.Second
		assert.GreaterOrEqual(t, got, want, "Job activeDeadlineSeconds %s: want at least the schedule %q (%s) + %s", got, monitor.RunbookSchedule, sch.Total(), watchMargin)
	}
	assert.Equal(t, m.account.Name, spec.Template.Spec.ServiceAccountName, "Job serviceAccountName: the ServiceAccount of monitor-access.yaml")

	require.Len(t, spec.Template.Spec.Containers, 1)
	c := spec.Template.Spec.Containers[0]
	assert.Equal(t, []string{"monitor"}, c.Command[1:], "container command: runbook monitor, the runbook's schedule, no AUTO_ROLLBACK (the Role only reads)")
	assert.Empty(t, c.Args, "container args")
}

// Secrets come from a Secret by name, never written in the manifest: each
// variable environments/prod.yaml names for a secret is a secretKeyRef,
// and no other variable holds a literal secret.
func TestMonitorJobSecrets(t *testing.T) {
	m := load(t)
	tgt := prodTarget(t)
	c := m.job.Spec.Template.Spec.Containers[0]
	assert.Empty(t, c.EnvFrom, "envFrom: name each secret the watch reads")
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	secrets := tgt.Secrets()
	require.NotEmpty(t, secrets, "%s names no secret", tgt.File)
	for _, s := range secrets {
		e, ok := env[s.Name()]
		if !assert.True(t, ok, "%s (named in %s) is not set in the Job", s.Name(), tgt.File) {
			continue
		}
		assert.Empty(t, e.Value, "%s: written in the manifest; want valueFrom.secretKeyRef", e.Name)
		if assert.NotNil(t, e.ValueFrom, "%s: no valueFrom", e.Name) {
			assert.NotNil(t, e.ValueFrom.SecretKeyRef, "%s: want valueFrom.secretKeyRef, got %+v", e.Name, e.ValueFrom)
		}
	}
	for _, e := range c.Env {
		assert.NotContains(t, e.Value, "://", "%s: a URL written in the manifest (%q); secrets come from the Secret", e.Name, e.Value)
	}
}

// The Role reads, and only the Deployments of the target's services: what
// the watch reads (their CPU limits). It can change nothing.
func TestMonitorRole(t *testing.T) {
	m := load(t)
	tgt := prodTarget(t)
	var services []string
	for _, s := range tgt.Services {
		services = append(services, s.Name)
	}
	require.Len(t, m.role.Rules, 1, "Role %s rules", m.role.Name)
	r := m.role.Rules[0]
	assert.Equal(t, []string{"apps"}, r.APIGroups, "Role %s apiGroups", m.role.Name)
	assert.Equal(t, []string{"deployments"}, r.Resources, "Role %s resources", m.role.Name)
	assert.ElementsMatch(t, services, r.ResourceNames, "Role %s resourceNames: the services of %s", m.role.Name, tgt.File)
	for _, v := range r.Verbs {
		assert.True(t, slices.Contains([]string{"get", "list", "watch"}, v), "Role %s verb %q: the watch only reads", m.role.Name, v)
	}
	assert.Equal(t, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: m.role.Name}, m.binding.RoleRef, "RoleBinding %s roleRef", m.binding.Name)
	assert.Equal(t, []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: m.account.Name, Namespace: m.account.Namespace}}, m.binding.Subjects, "RoleBinding %s subjects", m.binding.Name)
}
