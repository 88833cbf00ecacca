package rollback

import (
	"fmt"
	"time"

	"github.com/granter/runbook/internal/journal"
)

// Interrupted is a deployment step the journal says started (a "started"
// entry, journaled before the step acts) and never ended: the run was
// killed in the middle of it, so what it changes may have changed.
type Interrupted struct {
	journal.Entry
}

// interrupted returns, per step (and deployment), the last "started"
// entry that no later entry of the same step ended.
func interrupted(entries []journal.Entry) []Interrupted {
	var out []Interrupted
	for i, e := range entries {
		if e.Status != journal.StatusStarted || endedOrStartedAgain(entries[i+1:], e) {
			continue
		}
		out = append(out, Interrupted{e})
	}
	return out
}

// endedOrStartedAgain: a later entry of the same step ended it, or a
// later "started" entry of the same step and deployment says more.
func endedOrStartedAgain(later []journal.Entry, e journal.Entry) bool {
	dep := e.Data[journal.KeyDeployment]
	for _, l := range later {
		if l.Phase != e.Phase || l.Step != e.Step {
			continue
		}
		ld := l.Data[journal.KeyDeployment]
		if l.Status != journal.StatusStarted && (dep == "" || ld == "" || ld == dep) {
			return true
		}
		if l.Status == journal.StatusStarted && (dep == "" || ld == dep) {
			return true
		}
	}
	return false
}

// noteInterrupted says, for each step the run started and never ended,
// what the plan assumes about it and why: the step may have happened.
func (p *Plan) noteInterrupted(entries []journal.Entry) {
	for _, it := range interrupted(entries) {
		e := it.Entry
		at := e.Time
		if !e.Started.IsZero() {
			at = e.Started
		}
		head := fmt.Sprintf("Step %s (%s) started at %s and never ended (the run was killed or lost during it)",
			e.Step, e.Action, at.UTC().Format(time.RFC3339))
		dep := e.Data[journal.KeyDeployment]
		switch {
		case e.Phase == journal.Phase2 || e.Data[journal.KeyChanges] == journal.ChangesDatabase:
			p.Notes = append(p.Notes, head+": the migrations may be applied in part, so the plan restores the database from the backup (Step 3)")
		case e.Data[journal.KeyChanges] == journal.ChangesImages && dep != "":
			img, ok := p.image(dep)
			switch {
			case !ok:
				p.Notes = append(p.Notes, head+": the image of "+dep+" may have changed")
			case img.Current != img.Previous:
				p.Notes = append(p.Notes, fmt.Sprintf("%s: the image of %s may have changed, and it has: it runs %s; Step 4 sets it back to %s (%s)", head, dep, img.Current, img.Previous, img.PreviousFrom))
			default:
				p.Notes = append(p.Notes, fmt.Sprintf("%s: the image of %s may have changed; it still runs %s, the image to restore", head, dep, img.Current))
			}
		case e.Data[journal.KeyChanges] == journal.ChangesReplicas && dep != "":
			img, ok := p.image(dep)
			if !ok {
				p.Notes = append(p.Notes, head+": "+dep+" may have been scaled to 0")
				continue
			}
			p.Notes = append(p.Notes, fmt.Sprintf("%s: %s may have been scaled to 0; Step 4 scales it back to %d (%s)", head, dep, img.Replicas, img.ReplicasFrom))
		default:
			p.Notes = append(p.Notes, head+": it may have happened")
		}
	}
}

func (p *Plan) image(deployment string) (Image, bool) {
	for _, img := range p.Images {
		if img.Deployment == deployment {
			return img, true
		}
	}
	return Image{}, false
}
