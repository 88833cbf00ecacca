package main

// runbook checklist prints the PRE-DEPLOYMENT CHECKLIST from the `go test
// -json` events of the preflight items (a run folder's preflight.json, or
// go test -json ./preflight) ("Status: ☑️ ALL COMPLETE → Proceed" or the
// blockers) and records what the checklist's checks read.
//
//	runbook checklist --in runs/<run>/preflight.json [--env prod] [--version v2.0.0] [--out checklist.txt]
//	go test -count=1 -json -tags=staging ./smoke | runbook checklist record-smoke --env staging --version v2.0.0 -o runs/staging-smoke-v2.0.0.json
//	runbook checklist ack --file runs/acks.jsonl --item 3 --sub "Video call active" --by alice --note "meet.example.com/granter"
//
// Exit codes (internal/exitcode): 0 every item complete, 3 a blocker, 2 a
// configuration error (no check ran), 1 the run failed outside the
// checklist (build error, panic, timeout) or bad usage.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/granter/runbook/internal/checklist"
	"github.com/granter/runbook/internal/exitcode"
	"github.com/granter/runbook/internal/flagorder"
)

func init() {
	register(Command{Name: "checklist", Order: 0, OwnFlags: []string{"env"}, Summary: "print the checklist from preflight.json (--in); checklist ack: record a person's confirmation; checklist record-smoke",
		Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			return checklistMain(args, os.Stdin, stdout, stderr)
		}})
}

func checklistMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "record-smoke":
			return checklistRecordSmoke(args[1:], stdin, stdout, stderr)
		case "ack":
			return checklistAck(args[1:], stdout, stderr)
		case "render":
			args = args[1:]
		}
	}
	return checklistRender(args, stdin, stdout, stderr)
}

func checklistRender(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("checklist", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "go test -json output of ./preflight (default: standard input)")
	out := fs.String("out", "", "also write the checklist to this file")
	env := fs.String("env", "", "environment, for the heading")
	version := fs.String("version", "", "version being deployed, for the heading")
	quiet := fs.Bool("quiet", false, "do not print each sub-item to standard error as it finishes")
	if err := fs.Parse(flagorder.Reorder(fs, args)); err != nil {
		return exitcode.Internal
	}
	r := stdin
	if *in != "" {
		f, err := os.Open(*in)
		if err != nil {
			fmt.Fprintln(stderr, "checklist:", err)
			return exitcode.Internal
		}
		defer f.Close()
		r = f
	}
	// Keep the whole stream, and say what finished as it finishes: a
	// backup of a large database takes minutes.
	var all bytes.Buffer
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		all.Write(sc.Bytes())
		all.WriteByte('\n')
		if !*quiet {
			checklistLive(stderr, sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(stderr, "checklist:", err)
		return exitcode.Internal
	}
	rep, err := checklist.Read(&all)
	if err != nil {
		fmt.Fprintln(stderr, "checklist:", err)
		return exitcode.Internal
	}
	h := checklist.Heading{Env: *env, Version: *version, At: time.Now()}
	var text bytes.Buffer
	if err := rep.Write(&text, h); err != nil {
		fmt.Fprintln(stderr, "checklist:", err)
		return exitcode.Internal
	}
	fmt.Fprint(stdout, "\n"+text.String())
	if *out != "" {
		if err := os.WriteFile(*out, text.Bytes(), 0o644); err != nil {
			fmt.Fprintln(stderr, "checklist:", err)
			return exitcode.Internal
		}
	}
	code := rep.ExitCode()
	if code != exitcode.OK {
		fmt.Fprintf(stderr, "checklist: exit %d (%s)\n", code, exitcode.Name(code))
	}
	return code
}

// checklistLive prints "✅ 1. Database Backup / Full backup taken" when a sub-item's
// subtest ends.
func checklistLive(w io.Writer, line []byte) {
	var e struct{ Action, Test string }
	if json.Unmarshal(line, &e) != nil || !strings.Contains(e.Test, "/") {
		return
	}
	mark := map[string]string{"pass": "✅", "fail": "❌", "skip": "⚠"}[e.Action]
	if mark == "" {
		return
	}
	test, sub, _ := strings.Cut(e.Test, "/")
	for _, it := range checklist.Items {
		if it.Test == test {
			fmt.Fprintf(w, "  %s %s / %s\n", mark, it.Label(), strings.ReplaceAll(sub, "_", " "))
		}
	}
}

func checklistRecordSmoke(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("record-smoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := fs.String("env", "", "environment the smoke run was against (staging)")
	version := fs.String("version", "", "version deployed there (v2.0.0)")
	out := fs.String("o", "", "record to write (runs/staging-smoke-<version>.json)")
	if err := fs.Parse(flagorder.Reorder(fs, args)); err != nil {
		return exitcode.Internal
	}
	if *env == "" || *version == "" || *out == "" {
		fmt.Fprintln(stderr, "record-smoke: -env, -version and -o are required")
		return exitcode.Internal
	}
	rec, err := checklist.SmokeRecordFrom(stdin, *env, *version, time.Now())
	if err == nil {
		err = checklist.WriteJSON(*out, rec)
	}
	if err != nil {
		fmt.Fprintln(stderr, "record-smoke:", err)
		return exitcode.Internal
	}
	if !rec.Passed {
		fmt.Fprintf(stdout, "smoke run of %s on %s recorded in %s: NOT PASSED (%s)\n", *version, *env, *out, strings.Join(rec.Problems, "; "))
		return exitcode.Smoke
	}
	fmt.Fprintf(stdout, "smoke run of %s on %s recorded in %s: passed (%d flows)\n", *version, *env, *out, len(rec.Flows))
	return exitcode.OK
}

func checklistAck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ack", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "", "the acks file the checks read")
	item := fs.Int("item", 0, "checklist item number (1-8)")
	sub := fs.String("sub", "", "sub-item, in the runbook's words")
	by := fs.String("by", "", "who confirms")
	note := fs.String("note", "", "detail: the call link, the channel, the pager schedule")
	if err := fs.Parse(flagorder.Reorder(fs, args)); err != nil {
		return exitcode.Internal
	}
	if *file == "" || *item < 1 || *item > len(checklist.Items) {
		fmt.Fprintln(stderr, "ack: -file and -item 1..8 are required")
		return exitcode.Internal
	}
	err := checklist.AppendAck(*file, checklist.Ack{Item: *item, Sub: *sub, By: *by, Note: *note})
	if err != nil {
		fmt.Fprintln(stderr, "ack:", err)
		return exitcode.Internal
	}
	fmt.Fprintf(stdout, "recorded: %s / %s confirmed by %s\n", checklist.ItemN(*item).Label(), *sub, *by)
	return exitcode.OK
}
