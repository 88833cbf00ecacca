// Package roster is the deployment's team sheet: who is on the deployment
// call, where the team talks (the channel, the video call), who to call
// when it goes wrong (the runbook's ESCALATION CONTACTS, filled in) and who
// is on call during the deployment window. Checklist item 3 ("Team
// Coordination") and item 7 ("On-call staff ready") read it, with the
// team's confirmations (checklist.Ack) beside it.
//
// One file per deployment (team.roster, "{version}" in its path), YAML:
//
//	version: v2.0.0
//	channel: "#granter-deploy"
//	videoCall: https://meet.example.com/granter-deploy
//	window: {start: 2026-03-03T13:00:00+01:00, end: 2026-03-03T19:00:00+01:00}
//	members:                       # on the call; each confirms "All team members online"
//	  - {name: Alice Martin, handle: alice, phone: "+33 6 12 34 56 78", role: On-call Engineer}
//	escalation:                    # the runbook's six roles, every one filled
//	  - {role: On-call Engineer, name: Alice Martin, phone: "+33 6 12 34 56 78"}
//	  - {role: Tech Lead, name: ..., phone: ...}
//	onCall:                        # shifts covering the window; each confirms "On-call staff ready"
//	  - {handle: alice, name: Alice Martin, phone: "+33 6 12 34 56 78", from: ..., to: ...}
//
// A value the runbook leaves as a placeholder ("[Name]", "[Phone]", "TBD",
// "<name>") is not a contact: Placeholder says so, and the checks name the
// role and the field.
package roster

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/target"
)

// EscalationRoles are the runbook's ESCALATION CONTACTS, in its order.
var EscalationRoles = []string{
	"On-call Engineer", "Tech Lead", "Database Admin", "Infrastructure Lead", "Product Manager", "Executive Sponsor",
}

// Roster is one deployment's team sheet.
type Roster struct {
	Version    string    `json:"version"`
	Channel    string    `json:"channel"`
	VideoCall  string    `json:"videoCall"`
	Window     Window    `json:"window"`
	Members    []Person  `json:"members"`
	Escalation []Contact `json:"escalation"`
	OnCall     []Shift   `json:"onCall"`

	// Path is the file it was read from.
	Path string `json:"-"`
}

// Window is the deployment window (the runbook's 13:00 to 19:00).
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func (w Window) String() string {
	return w.Start.Format("2006-01-02 15:04 MST") + " to " + w.End.Format("2006-01-02 15:04 MST")
}

// Person is one member of the deployment call.
type Person struct {
	Name   string `json:"name"`
	Handle string `json:"handle"` // what they sign their confirmations with (-by)
	Phone  string `json:"phone,omitempty"`
	Role   string `json:"role,omitempty"`
}

// Contact is one line of the escalation list.
type Contact struct {
	Role  string `json:"role"`
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

// Shift is one on-call shift.
type Shift struct {
	Handle string    `json:"handle"`
	Name   string    `json:"name"`
	Phone  string    `json:"phone"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
}

func (s Shift) String() string {
	return fmt.Sprintf("%s (%s) %s to %s", s.Name, s.Handle, s.From.Format("2006-01-02 15:04 MST"), s.To.Format("2006-01-02 15:04 MST"))
}

// Load reads the roster at path. Decoding is strict: an unknown key is an
// error naming it, so a typo never hides a contact.
func Load(path string) (*Roster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	var r Roster
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		return nil, fmt.Errorf("roster %s: %v", path, err)
	}
	r.Path = path
	return &r, nil
}

// Write writes r as YAML to path (0600, folder created).
func Write(path string, r *Roster) error {
	data, err := yaml.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dirOf(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i]
	}
	return "."
}

// CheckVersion fails unless the roster is for version.
func (r *Roster) CheckVersion(version string) error {
	if r.Version != version {
		return fmt.Errorf("roster %s is for %q, not %s: write the roster of this deployment", r.Path, r.Version, version)
	}
	return nil
}

var (
	placeholder = regexp.MustCompile(`(?i)\[[^\]]*\]|<[^>]*>|\b(tbd|tba|todo|fixme|xxx+|unknown|name|phone)\b|\bn/a\b|\?\?|^[\s._-]*$`)
	phoneChars  = regexp.MustCompile(`^\+?[0-9 ().\-/]+$`)
)

// Placeholder reports whether s is not a real value: empty, or the
// runbook's "[Name]" / "[Phone]", "<name>", "TBD", "TODO", "N/A", "xxx",
// "??".
func Placeholder(s string) bool { return placeholder.MatchString(s) }

// phoneProblem says why s is not a phone number one can call, or "".
func phoneProblem(s string) string {
	switch {
	case Placeholder(s):
		return fmt.Sprintf("phone %q is a placeholder", s)
	case !phoneChars.MatchString(s):
		return fmt.Sprintf("phone %q is not a phone number", s)
	}
	digits := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	if digits < 6 {
		return fmt.Sprintf("phone %q has %d digits, too few to call", s, digits)
	}
	return ""
}

// CheckEscalation fails unless every role of EscalationRoles has a contact
// with a real name and a phone number one can call. The error lists every
// problem by role.
func (r *Roster) CheckEscalation() error {
	var problems []string
	for _, role := range EscalationRoles {
		var cs []Contact
		for _, c := range r.Escalation {
			if strings.EqualFold(strings.TrimSpace(c.Role), role) {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			problems = append(problems, fmt.Sprintf("%s: no contact", role))
			continue
		}
		for _, c := range cs {
			if Placeholder(c.Name) {
				problems = append(problems, fmt.Sprintf("%s: name %q is a placeholder", role, c.Name))
			}
			if p := phoneProblem(c.Phone); p != "" {
				problems = append(problems, fmt.Sprintf("%s (%s): %s", role, c.Name, p))
			}
		}
	}
	for _, c := range r.Escalation {
		if !slices.ContainsFunc(EscalationRoles, func(role string) bool { return strings.EqualFold(strings.TrimSpace(c.Role), role) }) {
			problems = append(problems, fmt.Sprintf("role %q is not one of the runbook's (%s)", c.Role, strings.Join(EscalationRoles, ", ")))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("escalation contacts in %s: %s", r.Path, strings.Join(problems, "; "))
	}
	return nil
}

// CheckMembers fails unless the roster lists at least one member, each
// with a real name and a handle.
func (r *Roster) CheckMembers() error {
	if len(r.Members) == 0 {
		return fmt.Errorf("roster %s lists no team member (members:)", r.Path)
	}
	var problems []string
	for i, m := range r.Members {
		if Placeholder(m.Name) {
			problems = append(problems, fmt.Sprintf("members[%d]: name %q is a placeholder", i, m.Name))
		}
		if strings.TrimSpace(m.Handle) == "" || Placeholder(m.Handle) {
			problems = append(problems, fmt.Sprintf("members[%d] (%s): handle %q is what they confirm with (-by): set it", i, m.Name, m.Handle))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("roster %s: %s", r.Path, strings.Join(problems, "; "))
	}
	return nil
}

// Member returns the member whose handle or name is by (case-insensitive).
func (r *Roster) Member(by string) (Person, bool) {
	for _, m := range r.Members {
		if matches(by, m.Handle, m.Name) {
			return m, true
		}
	}
	return Person{}, false
}

func matches(by string, names ...string) bool {
	by = strings.TrimSpace(by)
	for _, n := range names {
		if n != "" && strings.EqualFold(by, strings.TrimSpace(n)) {
			return true
		}
	}
	return false
}

// ReadAcks reads every confirmation in the JSON Lines file at path (as
// `runbook checklist ack` appends them). A missing file is no
// confirmation, not an error.
func ReadAcks(path string) ([]checklist.Ack, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []checklist.Ack
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var a checklist.Ack
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

// Confirmations finds, for each of the people (by handle or name), their
// newest ack of item/sub made at or after since. missing lists those with
// none.
func Confirmations(acks []checklist.Ack, item int, sub string, since time.Time, people []Person) (got map[string]checklist.Ack, missing []Person) {
	got = map[string]checklist.Ack{}
	for _, p := range people {
		var best checklist.Ack
		found := false
		for _, a := range acks {
			if a.Item == item && a.Sub == sub && !a.At.Before(since) && matches(a.By, p.Handle, p.Name) && (!found || a.At.After(best.At)) {
				best, found = a, true
			}
		}
		if found {
			got[p.Handle] = best
		} else {
			missing = append(missing, p)
		}
	}
	return got, missing
}

// AckCommand is the one line a person runs to confirm item/sub.
func AckCommand(file string, item int, sub, handle string) string {
	return fmt.Sprintf("runbook checklist ack -file %s -item %d -sub %q -by %s", file, item, sub, handle)
}

// OnCallDuring returns the on-call shifts that overlap [from, to], sorted
// by start, or an error naming every gap in the cover (or that there is
// no shift at all).
func (r *Roster) OnCallDuring(from, to time.Time) ([]Shift, error) {
	var shifts []Shift
	var problems []string
	for i, s := range r.OnCall {
		if !s.To.After(s.From) {
			problems = append(problems, fmt.Sprintf("onCall[%d] (%s) ends before it starts", i, s.Name))
			continue
		}
		if Placeholder(s.Handle) || Placeholder(s.Name) {
			problems = append(problems, fmt.Sprintf("onCall[%d]: %q / %q is a placeholder", i, s.Name, s.Handle))
			continue
		}
		if p := phoneProblem(s.Phone); p != "" {
			problems = append(problems, fmt.Sprintf("onCall[%d] (%s): %s", i, s.Name, p))
		}
		if s.To.After(from) && s.From.Before(to) {
			shifts = append(shifts, s)
		}
	}
	sort.Slice(shifts, func(i, j int) bool { return shifts[i].From.Before(shifts[j].From) })
	if len(shifts) == 0 {
		problems = append(problems, fmt.Sprintf("nobody is on call from %s to %s (onCall: lists %d shift(s))",
			from.Format("2006-01-02 15:04 MST"), to.Format("2006-01-02 15:04 MST"), len(r.OnCall)))
	} else {
		covered := from
		for _, s := range shifts {
			if s.From.After(covered) {
				problems = append(problems, fmt.Sprintf("nobody is on call from %s to %s", covered.Format("2006-01-02 15:04 MST"), s.From.Format("2006-01-02 15:04 MST")))
			}
			if s.To.After(covered) {
				covered = s.To
			}
		}
		if covered.Before(to) {
			problems = append(problems, fmt.Sprintf("nobody is on call from %s to %s", covered.Format("2006-01-02 15:04 MST"), to.Format("2006-01-02 15:04 MST")))
		}
	}
	if len(problems) > 0 {
		return shifts, fmt.Errorf("on-call shifts in %s: %s", r.Path, strings.Join(problems, "; "))
	}
	return shifts, nil
}

// People are the on-call people of shifts, once each, as Persons.
func People(shifts []Shift) []Person {
	var out []Person
	seen := map[string]bool{}
	for _, s := range shifts {
		if !seen[s.Handle] {
			seen[s.Handle] = true
			out = append(out, Person{Name: s.Name, Handle: s.Handle, Phone: s.Phone})
		}
	}
	return out
}

// LoadFor reads the roster of the target's VERSION (team.roster) and
// checks it is for that version.
func LoadFor(tgt *target.Target) (*Roster, error) {
	if tgt.Version == "" {
		return nil, fmt.Errorf("no VERSION given: run make preflight VERSION=v2.0.0 (or set %s)", target.VersionEnv)
	}
	if tgt.Team.Roster == "" {
		return nil, fmt.Errorf("no roster: set team.roster in %s", tgt.File)
	}
	r, err := Load(tgt.Team.RosterFor(tgt.Version))
	if err != nil {
		return nil, fmt.Errorf("%w: write the deployment's roster (team, channel, video call, escalation contacts, on-call; see internal/roster)", err)
	}
	return r, r.CheckVersion(tgt.Version)
}

// DefaultAckMaxAge is team.ackMaxAge when it is not set.
const DefaultAckMaxAge = 3 * time.Hour

// AcksFor reads the team's confirmations of the target's VERSION
// (team.acks) and the time from which they count (now - team.ackMaxAge).
func AcksFor(tgt *target.Target, now time.Time) (file string, acks []checklist.Ack, since time.Time, err error) {
	if tgt.Team.Acks == "" {
		return "", nil, time.Time{}, fmt.Errorf("nowhere to read the team's confirmations: set team.acks in %s", tgt.File)
	}
	file = tgt.Team.AcksFor(tgt.Version)
	acks, err = ReadAcks(file)
	maxAge := tgt.Team.AckMaxAge
	if maxAge <= 0 {
		maxAge = DefaultAckMaxAge
	}
	return file, acks, now.Add(-maxAge), err
}
