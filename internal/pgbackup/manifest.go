package pgbackup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteManifest writes b's manifest (<file>.json, 0600) atomically: a
// temporary file, synced, then renamed over the old one.
func WriteManifest(b Backup) error {
	m := b
	m.Path = filepath.Base(b.Path)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest of %s: %w", b.Path, err)
	}
	path := b.ManifestPath()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".manifest-*")
	if err != nil {
		return fmt.Errorf("manifest of %s: %w", b.Path, err)
	}
	_, werr := tmp.Write(append(data, '\n'))
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("manifest of %s: %w", b.Path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("manifest of %s: %w", b.Path, err)
	}
	return nil
}

// ReadManifest reads the manifest at path (<file>.json); the backup's Path
// is resolved against the manifest's folder.
func ReadManifest(path string) (Backup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Backup{}, fmt.Errorf("backup manifest: %w", err)
	}
	var b Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return Backup{}, fmt.Errorf("backup manifest %s: %w", path, err)
	}
	if b.Path == "" || b.SHA256 == "" || b.Taken.IsZero() {
		return Backup{}, fmt.Errorf("backup manifest %s: no file, sha256 or time recorded", path)
	}
	b.Path = filepath.Join(filepath.Dir(path), filepath.Base(b.Path))
	return b, nil
}

// NoBackupError says a folder has no backup (of the kind asked for).
type NoBackupError struct {
	Dir, Database string
	Verified      bool
}

func (e *NoBackupError) Error() string {
	kind := "backup"
	if e.Verified {
		kind = "verified backup"
	}
	return fmt.Sprintf("no %s of %s in %s", kind, e.Database, e.Dir)
}

// Latest returns the newest backup of database in dir, by the time it was
// taken, from the manifests (a dump without a manifest is not a backup).
// None: a *NoBackupError.
func Latest(dir, database string) (Backup, error) { return latest(dir, database, false) }

// LatestVerified is Latest among the backups Verify succeeded on: the one
// Step 1.1 and the rollback may rely on.
func LatestVerified(dir, database string) (Backup, error) { return latest(dir, database, true) }

func latest(dir, database string, verified bool) (Backup, error) {
	paths, err := filepath.Glob(filepath.Join(dir, FilePrefix+"*"+FileSuffix+".json"))
	if err != nil {
		return Backup{}, err
	}
	var best Backup
	found := false
	var errs []error
	for _, p := range paths {
		if strings.HasSuffix(p, ".partial.json") {
			continue
		}
		b, err := ReadManifest(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if b.Database != database || (verified && b.Verified == nil) {
			continue
		}
		if !found || b.Taken.After(best.Taken) || (b.Taken.Equal(best.Taken) && len(b.Path) > len(best.Path)) {
			best, found = b, true
		}
	}
	if !found {
		if len(errs) > 0 {
			return Backup{}, fmt.Errorf("%w (unreadable manifests: %w)", &NoBackupError{Dir: dir, Database: database, Verified: verified}, errors.Join(errs...))
		}
		return Backup{}, &NoBackupError{Dir: dir, Database: database, Verified: verified}
	}
	return best, nil
}
