// Package target decides which Granter environment a run talks to: the one
// place where local, staging and prod differ.
//
// The build tag picks the environment: no tag is local (fixtures start the
// platform), -tags=staging and -tags=prod read environments/<env>.yaml and the
// environment variables it names for secrets. Tests branch on what the Target
// can do (ReadOnly, Kube != nil, Prometheus != nil), never on its name.
//
// When loading fails, the error names the setting and the file it was read
// from; fix that line and run again.
package target
