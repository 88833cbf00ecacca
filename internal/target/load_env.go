package target

import (
	"encoding/json"
	"fmt"
	"os"
)

// Env is the environment this binary was built for: local, staging or prod.
const Env = envName

// Load reads the target this binary was built for: environments/<env>.yaml
// plus the environment variables it names. Locally, a running platform
// (make local) is attached when RUNBOOK_LOCAL_TARGET names its endpoints file.
func Load() (*Target, error) {
	path, err := Find(envName)
	if err != nil {
		return nil, err
	}
	t, err := LoadFile(path, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if t.Env != envName {
		return nil, &ConfigError{File: path, Setting: "name", Problem: fmt.Sprintf("is %q but this binary was built for %q (build tag)", t.Env, envName)}
	}
	if p := os.Getenv("RUNBOOK_LOCAL_TARGET"); p != "" && envName == "local" {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, &ConfigError{File: p, Setting: "RUNBOOK_LOCAL_TARGET", Problem: err.Error()}
		}
		var e LocalEndpoints
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, &ConfigError{File: p, Setting: "RUNBOOK_LOCAL_TARGET", Problem: "malformed endpoints file: " + err.Error()}
		}
		t.Attach(e)
	}
	return t, nil
}

// LocalEndpoints are the addresses of a local platform that fixtures
// started. They fill in what environments/local.yaml leaves empty.
type LocalEndpoints struct {
	Services    map[string]string `json:"services"` // service name -> base URL
	ListingURL  string            `json:"listingURL,omitempty"`
	Prometheus  string            `json:"prometheus,omitempty"`
	Kubeconfig  string            `json:"kubeconfig,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	DatabaseURL string            `json:"databaseURL,omitempty"`
	Container   string            `json:"container,omitempty"` // Postgres container ID
	WebhookURL  string            `json:"webhookURL,omitempty"`
	// AIProviderURL is the stand-in AI provider; its /__faults switch lets
	// the IA flow check the fallback when the provider fails.
	AIProviderURL string `json:"aiProviderURL,omitempty"`
}

// Attach fills the target with a local platform's endpoints. Only fixtures
// call it; a database or webhook URL becomes a Secret so it is redacted
// like any other.
func (t *Target) Attach(e LocalEndpoints) {
	for i := range t.Services {
		if u, ok := e.Services[t.Services[i].Name]; ok {
			t.Services[i].URL = u
		}
	}
	if e.ListingURL != "" {
		t.Smoke.ListingURL = e.ListingURL
	}
	if e.AIProviderURL != "" {
		t.Smoke.AIProviderURL = e.AIProviderURL
	}
	if e.Prometheus != "" {
		if t.Prometheus == nil {
			t.Prometheus = &Prometheus{}
		}
		t.Prometheus.URL = e.Prometheus
	}
	if e.Kubeconfig != "" {
		if t.Kube == nil {
			t.Kube = &Kube{}
		}
		t.Kube.Kubeconfig = e.Kubeconfig
		if e.Namespace != "" {
			t.Kube.Namespace = e.Namespace
		}
	}
	if e.DatabaseURL != "" {
		if t.Database == nil {
			t.Database = &Database{Name: "granter_db"}
		}
		t.Database.URL = NewSecret("RUNBOOK_LOCAL_DATABASE_URL", e.DatabaseURL)
		t.Database.Container = e.Container
		t.addSecret(t.Database.URL)
	}
	if e.WebhookURL != "" {
		if t.Webhook == nil {
			t.Webhook = &Webhook{}
		}
		t.Webhook.URL = NewSecret("RUNBOOK_LOCAL_WEBHOOK_URL", e.WebhookURL)
		t.addSecret(t.Webhook.URL)
	}
}

func (t *Target) addSecret(s Secret) {
	if t.secrets == nil {
		t.secrets = &secretSet{}
	}
	t.secrets.add(s)
}
