package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"
)

// RateScrapes is how many scrape intervals the shortest rate window spans:
// rate() and increase() need two samples in the window, and four
// intervals leave room for a late or missed scrape (Grafana's
// $__rate_interval rule).
const RateScrapes = 4

// ScrapeInterval reads how often Prometheus scrapes, from its loaded
// configuration (/api/v1/status/config): the longest interval of its
// scrape jobs (a job without its own takes the global one), so that a
// window of RateScrapes intervals holds enough samples of every job.
func (c *Client) ScrapeInterval(ctx context.Context) (time.Duration, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	cfg, err := c.api.Config(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading Prometheus's configuration (/api/v1/status/config): %w", err)
	}
	type interval struct {
		ScrapeInterval string `json:"scrape_interval"`
	}
	var parsed struct {
		Global        interval   `json:"global"`
		ScrapeConfigs []interval `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(cfg.YAML), &parsed); err != nil {
		return 0, fmt.Errorf("Prometheus's configuration is not YAML: %w", err)
	}
	parse := func(s string, def time.Duration) (time.Duration, error) {
		if s == "" {
			return def, nil
		}
		d, err := model.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("Prometheus's scrape_interval %q: %w", s, err)
		}
		return time.Duration(d), nil
	}
	global, err := parse(parsed.Global.ScrapeInterval, time.Minute) // Prometheus's default
	if err != nil {
		return 0, err
	}
	if len(parsed.ScrapeConfigs) == 0 {
		return global, nil
	}
	var longest time.Duration
	for _, j := range parsed.ScrapeConfigs {
		d, err := parse(j.ScrapeInterval, global)
		if err != nil {
			return 0, err
		}
		longest = max(longest, d)
	}
	return longest, nil
}

// MinRateWindow is the shortest window a rate can be read over on this
// Prometheus: RateScrapes scrape intervals; fallback when the
// configuration cannot be read (a managed Prometheus may not serve it).
func (c *Client) MinRateWindow(ctx context.Context, fallback time.Duration) (time.Duration, error) {
	iv, err := c.ScrapeInterval(ctx)
	if err != nil {
		return fallback, err
	}
	return RateScrapes * iv, nil
}
