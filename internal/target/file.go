package target

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// fileConfig is environments/<env>.yaml as written. Decoding is strict: an
// unknown key is an error, so a typo never silently falls back to a default.
type fileConfig struct {
	Name       string          `json:"name"`
	ReadOnly   bool            `json:"readOnly"`
	Rehearsal  bool            `json:"rehearsal"`
	Confirm    string          `json:"confirm"`
	Services   []fileService   `json:"services"`
	Kube       *fileKube       `json:"kube"`
	Prometheus *filePrometheus `json:"prometheus"`
	Database   *fileDatabase   `json:"database"`
	Webhook    *fileWebhook    `json:"webhook"`
	Thresholds fileThresholds  `json:"thresholds"`
	Migrations fileMigrations  `json:"migrations"`
	Smoke      fileSmoke       `json:"smoke"`
	HTTP       fileHTTP        `json:"http"`
	Backup     fileBackup      `json:"backup"`
	Code       fileCode        `json:"code"`
	CI         fileCI          `json:"ci"`
	Staging    fileStaging     `json:"staging"`
	Team       fileTeam        `json:"team"`
	Browser    *fileBrowser    `json:"browser"`
	// NotApplicable: steps that cannot run on this target.
	NotApplicable []fileNotApplicable `json:"notApplicable"`
}

type fileBrowser struct {
	Path    string  `json:"path"`
	Timeout *string `json:"timeout"`
}

type fileNotApplicable struct {
	Step              string `json:"step"`
	Reason            string `json:"reason"`
	VerifiedElsewhere string `json:"verifiedElsewhere"`
}

type fileService struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Image  string `json:"image"`
	Health string `json:"health"`
	Live   string `json:"live"`
	Ready  string `json:"ready"`
}

type fileKube struct {
	Kubeconfig   string              `json:"kubeconfig"`
	Context      string              `json:"context"`
	Namespace    string              `json:"namespace"`
	Secrets      map[string][]string `json:"secrets"`
	Ingress      string              `json:"ingress"`
	TLSHosts     []string            `json:"tlsHosts"`
	TLSEndpoints map[string]string   `json:"tlsEndpoints"`
	TLSRootCA    string              `json:"tlsRootCA"`
	LogAllowlist []string            `json:"logAllowlist"`
}

type filePrometheus struct {
	URL        string   `json:"url"`
	Selector   string   `json:"selector"`
	Dashboards []string `json:"dashboards"`
}

type fileDatabase struct {
	URLEnv    string `json:"urlEnv"`
	Name      string `json:"name"`
	Container string `json:"container"`
}

type fileWebhook struct {
	URLEnv  string `json:"urlEnv"`
	Channel string `json:"channel"`
}

type fileThresholds struct {
	ErrorRate         *string `json:"errorRate"`
	RollbackErrorRate *string `json:"rollbackErrorRate"`
	APIP95            *string `json:"apiP95"`
	DBQuery           *string `json:"dbQuery"`
	CPU               *string `json:"cpu"`
	ActiveConnections *int    `json:"activeConnections"`
	MinSamples        *int    `json:"minSamples"`
	RolloutTimeout    *string `json:"rolloutTimeout"`
	DrainGrace        *string `json:"drainGrace"`
	RollbackBudget    *string `json:"rollbackBudget"`
	BackupMaxAge      *string `json:"backupMaxAge"`
	TLSMinDays        *int    `json:"tlsMinDays"`
	LogWindow         *string `json:"logWindow"`
	BaselineWindow    *string `json:"baselineWindow"`
}

type fileMigrations struct {
	Expected      []string `json:"expected"`
	Command       []string `json:"command"`
	StatusCommand []string `json:"statusCommand"`
}

type fileSmoke struct {
	UserPrefix    string  `json:"userPrefix"`
	EmailDomain   string  `json:"emailDomain"`
	ListingURL    string  `json:"listingURL"`
	ListingPages  int     `json:"listingPages"`
	ListingGrants int     `json:"listingGrants"`
	SearchP95     *string `json:"searchP95"`
	JobTimeout    *string `json:"jobTimeout"`
}

type fileBackup struct {
	Dir           string `json:"dir"`
	ScratchURLEnv string `json:"scratchURLEnv"`
}

type fileCode struct {
	Repo        string `json:"repo"`
	Remote      string `json:"remote"`
	Branch      string `json:"branch"`
	VersionFile string `json:"versionFile"`
}

type fileCI struct {
	StatusFile    string   `json:"statusFile"`
	StatusCommand []string `json:"statusCommand"`
}

type fileStaging struct {
	KubeContext    string  `json:"kubeContext"`
	Namespace      string  `json:"namespace"`
	DeployRecord   string  `json:"deployRecord"`
	SmokeRecord    string  `json:"smokeRecord"`
	RollbackRecord string  `json:"rollbackRecord"`
	RollbackMaxAge *string `json:"rollbackMaxAge"`
}

type fileTeam struct {
	Roster    string  `json:"roster"`
	Acks      string  `json:"acks"`
	AckMaxAge *string `json:"ackMaxAge"`
}

type fileHTTP struct {
	Timeout     *string `json:"timeout"`
	InsecureTLS bool    `json:"insecureTLS"`
	RootCA      string  `json:"rootCA"`
}

// parseDuration reads "200ms", "5m", "15m" as the runbook writes them.
func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as \"200ms\" or \"5m\", got %q", s)
	}
	return v, nil
}

// parsePercent reads "0.1%" as 0.001, the way the runbook writes rates.
func parsePercent(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || !strings.HasSuffix(s, "%") {
		return 0, fmt.Errorf("want a percentage such as \"0.1%%\", got %q", s)
	}
	return v / 100, nil
}
