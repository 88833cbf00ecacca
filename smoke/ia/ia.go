package ia

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/granter/runbook/internal/flow"
	"github.com/granter/runbook/internal/httpcheck"
	"github.com/granter/runbook/internal/phase4"
	"github.com/granter/runbook/internal/target"
)

// Timeout bounds the whole flow. The AI path has a 3 s deadline of its own
// on data-service.
const Timeout = 2 * time.Minute

// The known document and the fields it must yield, whichever extractor
// answers.
var (
	//go:embed testdata/grant-notice.txt
	KnownDocument string
	//go:embed testdata/grant-notice.json
	knownFieldsJSON []byte
)

// Fields are the structured fields of a grant notice (docs/API.md, IA).
type Fields struct {
	Title       string `json:"title"`
	Funder      string `json:"funder"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Deadline    string `json:"deadline"`
	Region      string `json:"region"`
	Category    string `json:"category"`
	Eligibility string `json:"eligibility"`
}

// KnownFields are the fields of KnownDocument.
func KnownFields() Fields {
	var f Fields
	if err := json.Unmarshal(knownFieldsJSON, &f); err != nil {
		panic("smoke/ia: testdata/grant-notice.json: " + err.Error()) // embedded at build time: a broken file is a programming error
	}
	return f
}

//go:embed testdata/fallback
var fallbackFS embed.FS

// Document is a grant notice and the fields it must yield.
type Document struct {
	Name   string // its file, testdata/fallback/<name>.txt
	Text   string
	Fields Fields // testdata/fallback/<name>.json
}

// FallbackDocuments are more known notices, written the ways funders
// write them, which the rule-based fallback must read exactly: another
// region, named the way a region names itself ("Région Bretagne (all four
// départements)"); a national call in French; labels in another wording
// (Programme, Territory, Funding, Theme, Beneficiaries); a field on the
// very first line; amounts as "1.5 million", "300 000 €" and "€80k";
// deadlines as 31/03/2027 and "15 janvier 2027".
func FallbackDocuments() []Document {
	const dir = "testdata/fallback"
	txts, err := fs.Glob(fallbackFS, dir+"/*.txt")
	if err != nil || len(txts) == 0 {
		panic(fmt.Sprintf("smoke/ia: no %s/*.txt embedded (%v)", dir, err)) // embedded at build time
	}
	docs := make([]Document, 0, len(txts))
	for _, txt := range txts { // fs.Glob sorts: a fixed order
		name := strings.TrimSuffix(path.Base(txt), ".txt")
		text, terr := fallbackFS.ReadFile(txt)
		raw, jerr := fallbackFS.ReadFile(dir + "/" + name + ".json")
		d := Document{Name: name, Text: string(text)}
		if err := errors.Join(terr, jerr, json.Unmarshal(raw, &d.Fields)); err != nil {
			panic(fmt.Sprintf("smoke/ia: %s/%s: %v", dir, name, err)) // embedded at build time: a broken file is a programming error
		}
		docs = append(docs, d)
	}
	return docs
}

// Mismatches lists every field of got that differs from want. Text is
// compared with spacing and case normalised; numbers and dates exactly.
func (want Fields) Mismatches(got Fields) []string {
	var out []string
	text := func(name, w, g string) {
		if norm(w) != norm(g) {
			out = append(out, fmt.Sprintf("%s %q, want %q", name, g, w))
		}
	}
	text("title", want.Title, got.Title)
	text("funder", want.Funder, got.Funder)
	if got.Amount != want.Amount {
		out = append(out, fmt.Sprintf("amount %d, want %d", got.Amount, want.Amount))
	}
	text("currency", want.Currency, got.Currency)
	if got.Deadline != want.Deadline {
		out = append(out, fmt.Sprintf("deadline %q, want %q", got.Deadline, want.Deadline))
	}
	text("region", want.Region, got.Region)
	text("category", want.Category, got.Category)
	text("eligibility", want.Eligibility, got.Eligibility)
	return out
}

func norm(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// Extraction is the body of POST /ia/extract.
type Extraction struct {
	Source         string  `json:"source"`
	Fields         *Fields `json:"fields"`
	FallbackReason string  `json:"fallback_reason"`
}

// Failure is one way the AI provider fails that the fallback must cover.
type Failure string

const (
	// ProviderDown: the provider answers 500.
	ProviderDown Failure = "answering 500"
	// ProviderIncomplete: the provider answers 200 with a grant whose
	// amount is 0, which a user would take for the grant's amount.
	ProviderIncomplete Failure = "answering a grant without its amount"
	// ProviderNoFields: the provider answers 200 without any fields.
	ProviderNoFields Failure = "answering 200 without fields"
)

// Failures are the ways fallback_when_provider_fails makes the provider
// fail, one after the other.
var Failures = []Failure{ProviderDown, ProviderIncomplete, ProviderNoFields}

// Outage makes the AI provider fail in the given way until restore is
// called: a way, which only some targets have (the local platform's fault
// switches), to check the fallback in auto mode.
type Outage func(ctx context.Context, f Failure) (restore func(context.Context) error, err error)

// Option configures the flow.
type Option func(*run)

// WithProviderOutage lets the flow break the AI provider to check that the
// fallback answers. Without it (or when it returns a flow.Skip error), the
// step fallback_when_provider_fails is reported as skipped, not passed.
func WithProviderOutage(o Outage) Option { return func(r *run) { r.outage = o } }

type run struct {
	tgt    *target.Target
	api    *httpcheck.Client
	known  Document
	docs   []Document // FallbackDocuments
	outage Outage
}

// New returns the IA flow for the target: extract the known document with
// the AI path and expect its fields from source "ai"; force the AI path off
// (mode=fallback) and expect the same fields from source "fallback"; have
// the fallback read the other known documents (FallbackDocuments) and
// expect theirs; and, where the target offers a way to break the AI
// provider, break it in each of the ways of Failures in turn (down, an
// answer without the amount, an answer without fields) and expect the
// known document's fields from the fallback in auto mode each time,
// saying it was the fallback.
func New(tgt *target.Target, opts ...Option) flow.Flow {
	r := &run{tgt: tgt, known: Document{Name: "grant-notice", Text: KnownDocument, Fields: KnownFields()}, docs: FallbackDocuments()}
	for _, o := range opts {
		o(r)
	}
	return flow.Flow{
		Name:          phase4.IA.Name,
		Timeout:       Timeout,
		Redact:        tgt.Redact,
		NotApplicable: tgt.NotApplicableIn(phase4.IA.Test),
		Steps: []flow.Step{
			{Name: "extract_ai", Run: r.extractAI},
			{Name: "fallback_forced_off", Run: r.fallbackForced},
			{Name: "fallback_known_documents", Run: r.fallbackDocuments},
			{Name: "fallback_when_provider_fails", Run: r.fallbackOutage},
		},
	}
}

// extract posts doc and checks the answer's fields and source.
func (r *run) extract(ctx context.Context, rec *flow.Recorder, doc Document, mode, wantSource, why string) error {
	var got Extraction
	resp, err := r.api.PostJSON(ctx, "/ia/extract", map[string]string{"document": doc.Text, "mode": mode}, http.StatusOK, &got)
	if err != nil {
		return err
	}
	rec.Record(fmt.Sprintf("POST %s %s mode=%s (%s)", resp.URL, doc.Name, mode, why),
		fmt.Sprintf("%d, source %q, fallback_reason %q, in %s", resp.Status, got.Source, got.FallbackReason, resp.Duration.Round(time.Millisecond)))
	if got.Fields == nil {
		return resp.Errorf(`no "fields" in the answer`)
	}
	if got.Source != wantSource {
		hint := ""
		switch {
		case wantSource == "ai":
			hint = fmt.Sprintf(": the AI path did not answer (fallback_reason %q)", got.FallbackReason)
		case got.Source == "ai" && mode == "fallback":
			hint = ": mode=fallback did not turn the AI path off, or the fallback's answer is labelled \"ai\""
		case got.Source == "ai":
			hint = ": the fallback answered but does not say so, or the provider failure went unnoticed"
		}
		return resp.Errorf("source %q, want %q (%s)%s", got.Source, wantSource, why, hint)
	}
	if wantSource == "fallback" && strings.TrimSpace(got.FallbackReason) == "" {
		return resp.Errorf(`source "fallback" without a fallback_reason: the answer must say why the AI path was not used`)
	}
	if bad := doc.Fields.Mismatches(*got.Fields); len(bad) > 0 {
		what := "the known document"
		if doc.Name != r.known.Name {
			what = "the known document testdata/fallback/" + doc.Name + ".txt"
		}
		return resp.Errorf("%s extractor: %d wrong fields for %s: %s", got.Source, len(bad), what, strings.Join(bad, "; "))
	}
	rec.Logf("all 8 fields as expected (%s, %d EUR, deadline %s, %s/%s)", got.Fields.Title, got.Fields.Amount, got.Fields.Deadline, got.Fields.Region, got.Fields.Category)
	return nil
}

func (r *run) extractAI(ctx context.Context, rec *flow.Recorder) error {
	api, err := httpcheck.ForService(r.tgt, target.DataService)
	if err != nil {
		return err
	}
	r.api = api
	return r.extract(ctx, rec, r.known, "auto", "ai", "the AI path")
}

func (r *run) fallbackForced(ctx context.Context, rec *flow.Recorder) error {
	return r.extract(ctx, rec, r.known, "fallback", "fallback", "AI path forced off")
}

// fallbackDocuments has the fallback read the other known documents: the
// fallback answers whenever the AI provider fails, for any notice, not
// only for the one the flow sends first. Only the fallback reads them:
// the AI provider's reading is checked on the known document, and a
// production provider is not billed for more.
func (r *run) fallbackDocuments(ctx context.Context, rec *flow.Recorder) error {
	for _, d := range r.docs {
		if err := r.extract(ctx, rec, d, "fallback", "fallback", "AI path forced off"); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) fallbackOutage(ctx context.Context, rec *flow.Recorder) error {
	if r.outage == nil {
		return flow.Skip("this target offers no way to make the AI provider fail (the local platform does); the fallback was checked with mode=fallback only")
	}
	for _, f := range Failures {
		if err := r.fallbackWhen(ctx, rec, f); err != nil {
			return err
		}
	}
	return nil
}

// fallbackWhen makes the AI provider fail in way f and expects the known
// document's fields from the fallback in auto mode.
func (r *run) fallbackWhen(ctx context.Context, rec *flow.Recorder, f Failure) (err error) {
	restore, err := r.outage(ctx, f)
	if err != nil {
		var skip *flow.SkipError
		if errors.As(err, &skip) {
			return err
		}
		return fmt.Errorf("cannot make the AI provider fail (%s): %w", f, err)
	}
	rec.Logf("AI provider made to fail: %s", f)
	defer func() {
		// A fresh deadline: the flow's may be over, and a restore that hangs
		// would leave the provider failing for every other flow.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if rerr := restore(rctx); rerr != nil {
			err = errors.Join(err, fmt.Errorf("the AI provider could not be restored (it keeps %s): %w", f, rerr))
			return
		}
		rec.Logf("AI provider restored")
	}()
	return r.extract(ctx, rec, r.known, "auto", "fallback", "AI provider "+string(f))
}
