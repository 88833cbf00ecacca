package phase4_test

import (
	"regexp"
	"testing"

	"github.com/granter/runbook/internal/phase4"
)

// The -run pattern of each gate matches its tests and nothing else: not a
// longer name, not a subtest's parent prefix, not another gate's test.
func TestRunPattern(t *testing.T) {
	for gate, tests := range phase4.Gates {
		re := regexp.MustCompile(phase4.RunPattern(tests()))
		for _, name := range tests() {
			if !re.MatchString(name) {
				t.Errorf("%s pattern %s does not match %s", gate, re, name)
			}
			if re.MatchString(name + "Extra") {
				t.Errorf("%s pattern %s matches %sExtra", gate, re, name)
			}
		}
		if re.MatchString("TestFaultsAreCaught") {
			t.Errorf("%s pattern %s matches TestFaultsAreCaught, a test of the suite itself", gate, re)
		}
	}
	if n := len(phase4.Flows); n != 5 {
		t.Errorf("Step 4.1 has 5 flows, the list has %d", n)
	}
}

func TestLookupCheck(t *testing.T) {
	c, ok := phase4.LookupCheck("TestCriticalEndpoints")
	if !ok || c.Step != "4.4" {
		t.Errorf("LookupCheck(TestCriticalEndpoints) = %+v, %v; want Step 4.4", c, ok)
	}
	if _, ok := phase4.LookupCheck("TestAuth"); ok {
		t.Error("LookupCheck(TestAuth): a smoke flow is not a Steps 4.2-4.5 check")
	}
}
