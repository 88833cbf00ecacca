package checklist

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Ack is a person's one-line confirmation of the human part of a sub-item
// that no system can prove ("Video call active", "On-call staff ready"):
// who confirmed, when, and a note (the call link, the pager schedule). It
// is recorded by one command:
//
//	runbook checklist ack -file runs/acks.jsonl -item 3 -sub "Video call active" -by alice -note "meet.example.com/granter"
//
// and the sub-item's check calls FindAck, failing when there is none
// recent enough. An ack is evidence of a statement, not of the fact: the
// check should still verify whatever part a system can (the channel
// exists, the contacts are filled in).
type Ack struct {
	Item int       `json:"item"`
	Sub  string    `json:"sub"`
	By   string    `json:"by"`
	Note string    `json:"note,omitempty"`
	At   time.Time `json:"at"`
}

// AppendAck appends a to the JSON Lines file at path (0600, created with
// its folder), synced.
func AppendAck(path string, a Ack) error {
	it := ItemN(a.Item)
	if !contains(it.Subs, a.Sub) {
		return fmt.Errorf("item %s has no sub-item %q (its sub-items: %s)", it.Label(), a.Sub, strings.Join(it.Subs, "; "))
	}
	if strings.TrimSpace(a.By) == "" {
		return errors.New("an ack needs the name of who confirms (-by)")
	}
	if a.At.IsZero() {
		a.At = time.Now()
	}
	a.At = a.At.UTC()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	b, err := json.Marshal(a)
	if err != nil {
		return errors.Join(err, f.Close())
	}
	_, werr := f.Write(append(b, '\n'))
	return errors.Join(werr, f.Sync(), f.Close())
}

// FindAck returns the newest ack of item/sub in the file at path made at
// or after since; none is an error saying which command records it.
func FindAck(path string, item int, sub string, since time.Time) (Ack, error) {
	missing := fmt.Errorf("no confirmation of %q (item %d) since %s in %s: the person responsible records it with `runbook checklist ack -file %s -item %d -sub %q -by <name> -note <detail>`",
		sub, item, since.UTC().Format(time.RFC3339), path, path, item, sub)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return Ack{}, missing
	}
	if err != nil {
		return Ack{}, err
	}
	defer f.Close()
	var best Ack
	found := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var a Ack
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			return Ack{}, fmt.Errorf("%s line %d: %w", path, n, err)
		}
		if a.Item == item && a.Sub == sub && !a.At.Before(since) && (!found || a.At.After(best.At)) {
			best, found = a, true
		}
	}
	if err := sc.Err(); err != nil {
		return Ack{}, err
	}
	if !found {
		return Ack{}, missing
	}
	return best, nil
}
