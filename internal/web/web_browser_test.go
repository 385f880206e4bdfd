package web_test

import (
	"bytes"
	"cmp"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
	"github.com/checkpointd/checkpointd/internal/web"
)

// chromiumPath is the browser the end-to-end test drives.
const chromiumPath = "/usr/bin/chromium"

// needChromium skips t without Chromium, or fails it when CI=true, so that
// a CI run cannot pass by skipping the browser test.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing, and CI=true: the browser test must run in CI (apt-get install chromium)", chromiumPath)
		}
		t.Skipf("%s is missing (%v): skipping the browser test (apt-get install chromium)", chromiumPath, err)
	}
}

// browserEnv is the real server (SQLite store seeded with the demo data
// set, the real Authenticator, an API key of the demo project) on
// 127.0.0.1, and what the page should show of the demo's Cluster0.
type browserEnv struct {
	url       string
	pub, priv string
	db        *sqlite.DB
}

// objective is the recovery point objective the browser test gives the
// demo's Cluster0: shorter than its longest gaps, so that some stretches
// miss it.
const objective = 20 * time.Minute

func newBrowserEnv(t *testing.T) *browserEnv {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(ctx, auth.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	// Cluster0 declares an objective, and its newest checkpoint has a
	// restore job under way: the page marks both.
	ref := backup.ClusterRef{GroupID: ds.Project.ID, Name: "Cluster0"}
	c, err := db.UpdateCluster(ctx, ref, func(c *backup.Cluster) error {
		c.Schedule.Objective = objective
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cps := allCheckpoints(t, db, ref)
	newest := cps[len(cps)-1]
	plan := backup.PlanRestore(&c, &newest, newest.Timestamp)
	jobs := plan.RestoreJobs(backup.NewIDSourceFrom([5]byte{7, 7, 7, 7, 7}, 1), newest.Timestamp.Add(time.Hour),
		backup.RestoreTarget{GroupID: c.GroupID, ClusterID: c.ID, ClusterName: c.Name}, backup.DriverSimulated)
	if err := db.CreateRestoreJobs(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	grants := []backup.Grant{{Role: backup.ProjectReadOnly, ProjectID: ds.Project.ID}}
	k, priv, err := admin.CreateAPIKey(ctx, db, ds.Project.OrgID, "browser test", grants, nil, clock.System)
	if err != nil {
		t.Fatal(err)
	}
	// The administration API too: the page reads restore plans there.
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Auth: authn, OAuth: authn, UI: web.Handler(), Admin: db, ClusterAdmin: admin.Clusters{Store: db}}, db))
	t.Cleanup(srv.Close)
	return &browserEnv{url: srv.URL, pub: k.PublicKey, priv: priv, db: db}
}

// expected is what the cluster view must draw, computed here from the
// store's checkpoints by the rules the page documents: the checkpoints of
// the 7 days before the newest one, the interval as the most common gap,
// a gap as more than 1.5 intervals.
type expected struct {
	shown, notRestorable, gaps, tokens int
	lastDay                            int // checkpoints of the 24 hours before the newest
	newestID                           string
	first, newest                      time.Time // the window's first and newest checkpoints
	interval                           time.Duration
}

func expect(t *testing.T, cps []backup.Checkpoint) expected {
	t.Helper()
	newest := cps[len(cps)-1]
	from := newest.Timestamp.Add(-7 * 24 * time.Hour)
	var win []backup.Checkpoint
	for _, cp := range cps {
		if !cp.Timestamp.Before(from) {
			win = append(win, cp)
		}
	}
	e := expected{shown: len(win), newestID: newest.ID.Hex(), first: win[0].Timestamp, newest: newest.Timestamp}
	counts := map[time.Duration]int{}
	for i, cp := range win {
		if !cp.Timestamp.Before(newest.Timestamp.Add(-24 * time.Hour)) {
			e.lastDay++
		}
		if !cp.Restorable {
			e.notRestorable++
		}
		for _, p := range cp.Parts {
			if p.TokenDiscovered {
				e.tokens++
			}
		}
		if i > 0 {
			counts[cp.Timestamp.Sub(win[i-1].Timestamp).Round(time.Second)]++
		}
	}
	var interval time.Duration
	for d, n := range counts {
		if n > counts[interval] || n == counts[interval] && d < interval {
			interval = d
		}
	}
	for i := 1; i < len(win); i++ {
		if gap := win[i].Timestamp.Sub(win[i-1].Timestamp); float64(gap) > 1.5*float64(interval) {
			e.gaps++
		}
	}
	e.interval = interval
	return e
}

// checkObjectiveMarks checks what the cluster view draws of Cluster0's
// slot records and objective, against the store's records and the
// objective report computed here: a diamond for each slot of the window
// that left no checkpoint, its reason on hover and, clicked, its steps
// below the chart; the objective as a line over the exposure; a band for
// each stretch of the report that missed it (those starting before the
// newest checkpoint at least: later ones are cut at the chart's end); the
// restore job of the newest checkpoint linked from its row.
func checkObjectiveMarks(t *testing.T, ctx context.Context, env *browserEnv, want expected) {
	t.Helper()
	sys := backup.WithPrincipal(context.Background(), backup.System)
	ref := backup.ClusterRef{GroupID: demo.ProjectID, Name: "Cluster0"}
	f, err := backup.ParseSlotFilter([]string{"SKIPPED,FAILED,MISSED"}, want.first.Format(time.RFC3339), "")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := env.db.Slots(sys, ref, f, backup.PageRequest{Num: 1, Size: 500})
	if err != nil {
		t.Fatal(err)
	}
	limit := want.newest.Add(max(want.interval, time.Hour))
	wantSlots := map[string]backup.Slot{}
	for _, r := range recs.Items {
		if !r.Time.After(limit) {
			wantSlots[r.Time.Format(time.RFC3339)] = r
		}
	}
	if len(wantSlots) == 0 {
		t.Fatal("the demo's Cluster0 has no slot skipped, failed or missed in its week; the test needs some")
	}
	_, report, err := admin.Objective(sys, env.db, ref, want.first.Format(time.RFC3339), "", time.Now()) // wall clock: the server's
	if err != nil {
		t.Fatal(err)
	}

	type mark struct{ Slot, Outcome, Reason, Title string }
	type band struct{ Start, End string }
	type shown struct {
		Slots     []mark
		Bands     []band
		Objective string
		Exposure  bool
		Restores  []string
		Stats     string
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[shown](`(() => {
		const q = (s) => [...document.querySelectorAll(s)];
		const line = document.querySelector('#timeline svg.timeline line.objective-line');
		return {
			Slots: q('#timeline .slots .slot-mark').map((m) => ({Slot: m.dataset.slot, Outcome: m.dataset.outcome, Reason: m.dataset.reason,
				Title: m.querySelector('title').textContent})),
			Bands: q('#timeline svg.timeline .missed-band').map((b) => ({Start: b.dataset.start, End: b.dataset.end})),
			Objective: line ? line.dataset.minutes : '',
			Exposure: !!document.querySelector('#timeline svg.timeline path.exposure-line'),
			Restores: q('table.newest tbody tr:first-child td.restores a.restore-job').map((a) => a.dataset.status + ' ' + a.getAttribute('href')),
			Stats: document.querySelector('.stats').innerText,
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Slots) != len(wantSlots) {
		t.Errorf("slot marks: %d, want %d", len(got.Slots), len(wantSlots))
	}
	for _, m := range got.Slots {
		r, ok := wantSlots[m.Slot]
		if !ok || m.Outcome != string(r.Outcome) || m.Reason != string(r.Reason) || !strings.Contains(m.Title, string(r.Reason)) || !strings.Contains(m.Title, r.Detail) {
			t.Errorf("slot mark %+v, want the record %+v", m, r)
		}
	}
	if got.Objective != "20" || !got.Exposure {
		t.Errorf("objective line %q, exposure line %v; want 20 and one", got.Objective, got.Exposure)
	}
	// By their starts: the last stretch runs to now, a little later
	// here than when the page asked.
	drawn := map[string]band{}
	for _, b := range got.Bands {
		drawn[b.Start] = b
	}
	inReport := 0
	for i, m := range report.Missed {
		b, ok := drawn[m.Start.Format(time.RFC3339)]
		switch {
		case !ok && m.Start.Before(want.newest):
			t.Errorf("the objective was missed from %s to %s: no band", m.Start.Format(time.RFC3339), m.End.Format(time.RFC3339))
		case ok && i < len(report.Missed)-1 && b.End != m.End.Format(time.RFC3339):
			t.Errorf("band %+v, want it to end at %s", b, m.End.Format(time.RFC3339))
		case ok:
			inReport++
		}
	}
	if len(report.Missed) == 0 || inReport != len(got.Bands) {
		t.Errorf("%d bands drawn, %d of them stretches of the report's %d:\n%+v\n%+v", len(got.Bands), inReport, len(report.Missed), got.Bands, report.Missed)
	}
	if len(got.Restores) != 1 || !strings.HasPrefix(got.Restores[0], "IN_PROGRESS ../api/public/v1.0/groups/"+demo.ProjectID.Hex()+"/clusters/") {
		t.Errorf("restore links of the newest checkpoint: %q, want one, under way", got.Restores)
	}
	for _, s := range []string{"OBJECTIVE", "20 min, NOT met now", "WORST GAP", "SLOTS RESTORABLE"} {
		if !strings.Contains(strings.ToUpper(got.Stats), strings.ToUpper(s)) {
			t.Errorf("figures %q lack %q", got.Stats, s)
		}
	}

	// A click on a diamond shows that slot's record below the chart.
	var first mark
	for _, m := range got.Slots {
		if first.Slot == "" || m.Slot < first.Slot {
			first = m
		}
	}
	if first.Slot == "" {
		return
	}
	detail, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const m = document.querySelector('#timeline .slot-mark[data-slot="`+first.Slot+`"]');
		m.dispatchEvent(new MouseEvent('click', {bubbles: true}));
		const box = document.querySelector('#slot-detail .slot-box');
		return box ? box.dataset.slot + '\n' + box.innerText : '';
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	r := wantSlots[first.Slot]
	if !strings.HasPrefix(detail, first.Slot+"\n") || !strings.Contains(detail, string(r.Reason)) || !strings.Contains(detail, r.Detail) {
		t.Errorf("clicked slot %s shows %q, want its reason %s and detail %q", first.Slot, detail, r.Reason, r.Detail)
	}
	for _, st := range r.Steps {
		if !strings.Contains(detail, strings.ToLower(strings.ReplaceAll(string(st.Kind), "_", " "))) {
			t.Errorf("clicked slot %s shows %q, without its step %s", first.Slot, detail, st.Kind)
		}
	}
}

// allCheckpoints reads every checkpoint of the demo's Cluster0 through
// the API's own store interface, oldest first.
func allCheckpoints(t *testing.T, db *sqlite.DB, ref backup.ClusterRef) []backup.Checkpoint {
	t.Helper()
	var all []backup.Checkpoint
	for n := 1; ; n++ {
		p, err := db.Checkpoints(backup.WithPrincipal(context.Background(), backup.System), ref, backup.PageRequest{Num: n, Size: 500})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if len(p.Items) < 500 {
			return all
		}
	}
}

// TestBrowser drives the page in headless Chromium: the Digest challenge
// without credentials, then the demo's sharded cluster with them, checked
// in the DOM and in a screenshot.
func TestBrowser(t *testing.T) {
	needChromium(t)
	env := newBrowserEnv(t)

	// The page's own data, independently of the page.
	ref := backup.ClusterRef{GroupID: demo.ProjectID, Name: "Cluster0"}
	want := expect(t, allCheckpoints(t, env.db, ref))
	if want.notRestorable == 0 || want.gaps == 0 {
		t.Fatalf("the demo data set has %d not restorable checkpoints and %d gaps in Cluster0; the test needs both", want.notRestorable, want.gaps)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these Chromium's own connections to the outside keep
		// failing on a closed network, and with them the page's.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()

	// Credentials go to the browser as a person would type them into its
	// login dialog: through the Fetch domain's authRequired event. Until
	// they are set, every challenge is cancelled (the dialog dismissed).
	// Listen's callback must not send commands itself, so it hands each
	// paused request to a goroutine.
	var creds atomic.Pointer[[2]string]
	var challenges atomic.Int32
	if err := chromedp.Listen(bctx, func(ev any) {
		tab := chromedp.FromContext(bctx).Target
		switch ev := ev.(type) {
		case *fetch.EventRequestPaused:
			go func() {
				_, _ = cdp.Call(bctx, tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			}()
		case *fetch.EventAuthRequired:
			challenges.Add(1)
			answer := fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}
			if c := creds.Load(); c != nil {
				answer = fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: c[0], Password: c[1]}
			}
			go func() {
				_, _ = cdp.Call(bctx, tab, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID, AuthChallengeResponse: &answer})
			}()
		}
	}); err != nil {
		t.Fatal(err)
	}
	handleAuth := true
	if err := chromedp.Do(bctx,
		chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
			_, err := cdp.Call(ctx, tab, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &handleAuth})
			return err
		}),
		chromedp.EmulateViewport(1280, 800),
	); err != nil {
		t.Fatal(err)
	}

	// Without credentials: the API's challenge, and its 401 body shown.
	res, err := chromedp.Run(bctx, chromedp.NavigateResponse(env.url+"/ui/"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusUnauthorized || challenges.Load() == 0 || !strings.Contains(body, "You are not authorized for this resource.") {
		t.Fatalf("without credentials: status %d after %d challenges, page %q; want 401 and the API's challenge body", res.Status, challenges.Load(), body)
	}

	// With the key: the cluster view of the sharded demo cluster.
	creds.Store(&[2]string{env.pub, env.priv})
	clusterURL := env.url + "/ui/#/projects/" + demo.ProjectID.Hex() + "/clusters/Cluster0"
	// From another document: from /ui/ itself, a new fragment alone would
	// not load the page again.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if res, err = chromedp.Run(bctx, chromedp.NavigateResponse(clusterURL)); err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("with credentials: status %d", res.Status)
	}
	if state := waitState(t, bctx); state != "ready" {
		text, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("the cluster view ended in state %q: %s", state, text)
	}

	// A week of checkpoints every 15 minutes is drawn an hour to a bar,
	// each bar telling how many checkpoints it stands for.
	type drawn struct {
		Checkpoints, NotRestorable, Buckets, Gaps, Tokens, Rows int
		Lanes                                                   []string
		FirstRowID, Table                                       string
		Box                                                     struct{ X, Y, W, H float64 }
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[drawn](`(() => {
		const q = (s) => document.querySelectorAll(s);
		const sum = (s, attr) => [...q(s)].reduce((n, e) => n + Number(e.getAttribute(attr)), 0);
		const r = document.querySelector('#timeline svg.timeline').getBoundingClientRect();
		const first = document.querySelector('table.newest tbody tr');
		return {
			Checkpoints: sum('#timeline .marks .cp-bucket', 'data-count'),
			NotRestorable: sum('#timeline .marks .cp-bucket', 'data-not-restorable'),
			Buckets: q('#timeline .marks .cp-bucket').length,
			Gaps: q('#timeline svg.timeline .gap-band').length,
			Tokens: sum('#timeline g.lane [data-tokens]', 'data-tokens'),
			Rows: q('table.newest tbody tr').length,
			Lanes: [...q('#timeline g.lane')].map((g) => g.dataset.part),
			FirstRowID: first ? first.dataset.id : '',
			Table: document.querySelector('table.newest').innerText,
			Box: {X: r.x + scrollX, Y: r.y + scrollY, W: r.width, H: r.height},
		};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Checkpoints != want.shown || got.NotRestorable != want.notRestorable || got.Buckets < 7*24 || got.Buckets > 7*24+1 {
		t.Errorf("hour bars: %d, for %d checkpoints, %d not restorable; want 168 or 169 (a week of hours), for %d checkpoints, %d not restorable",
			got.Buckets, got.Checkpoints, got.NotRestorable, want.shown, want.notRestorable)
	}
	checkReadable(t, bctx, "7 days")
	checkCaptionRoom(t, bctx)
	if got.Gaps != want.gaps {
		t.Errorf("gap bands: %d, want %d", got.Gaps, want.gaps)
	}
	if wantLanes := []string{"Cluster0-shard-0", "Cluster0-shard-1", "Cluster0-shard-2", "Cluster0-config-0"}; !slices.Equal(got.Lanes, wantLanes) {
		t.Errorf("lanes %q, want %q", got.Lanes, wantLanes)
	}
	if got.Tokens != want.tokens {
		t.Errorf("token marks: %d, want %d", got.Tokens, want.tokens)
	}
	if got.Rows != 20 || got.FirstRowID != want.newestID || !strings.Contains(got.Table, want.newestID) {
		t.Errorf("table: %d rows, first %q; want 20, first the newest %s", got.Rows, got.FirstRowID, want.newestID)
	}
	checkObjectiveMarks(t, bctx, env, want)

	// The restore plan beside the newest checkpoint: opened, it reads the
	// administration API and lists the config server first, each part with
	// its --oplogLimit; the demo history is older than its window on this
	// server's clock, so the plan warns.
	type planShown struct {
		Steps    []string
		Parts    []string
		Warnings int
	}
	plan, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(() => {
		const d = document.querySelector('table.newest tbody tr details.restore-plan');
		d.open = true;
		return true;
	})()`))
	if err != nil || !plan {
		t.Fatalf("opening the restore plan: %v", err)
	}
	var shown planShown
	for deadline := time.Now().Add(10 * time.Second); ; {
		shown, err = chromedp.Run(bctx, chromedp.Evaluate[planShown](`(() => {
			const d = document.querySelector('table.newest tbody tr details.restore-plan');
			return {
				Steps: [...d.querySelectorAll('ol.steps li')].map((li) => li.innerText),
				Parts: [...d.querySelectorAll('ol.steps li')].map((li) => li.dataset.part),
				Warnings: d.querySelectorAll('.warning').length,
			};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if len(shown.Steps) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(shown.Steps) != 4 || shown.Parts[0] != "CONFIG_SERVER_REPLICA_SET" || !strings.Contains(shown.Steps[1], "shard Cluster0-shard-0: --oplogLimit ") ||
		shown.Warnings != 1 {
		t.Errorf("restore plan shown: %+v", shown)
	}

	// The screenshot: the chart must actually be drawn, in the marks'
	// colors, inside the chart's box.
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cluster.png")
	if dir := os.Getenv("CHECKPOINTD_SCREENSHOTS"); dir != "" {
		path = filepath.Join(dir, "cluster.png") // kept, to look at
	}
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	box := image.Rect(int(got.Box.X), int(got.Box.Y), int(got.Box.X+got.Box.W), int(got.Box.Y+got.Box.H))
	blue := countColor(img, box, [3]uint8{0x1d, 0x4e, 0xd8}, 24)
	red := countColor(img, box, [3]uint8{0xc2, 0x41, 0x0c}, 24)
	t.Logf("screenshot %s: chart box %v, %d pixels of the restorable color, %d of the not restorable color", path, box, blue, red)
	if blue < 1500 {
		t.Errorf("the chart box of the screenshot has %d pixels of the restorable marks' color; want at least 1500 (see %s)", blue, path)
	}
	if red < 20*want.notRestorable {
		t.Errorf("the chart box of the screenshot has %d pixels of the not restorable marks' color; want at least %d (see %s)", red, 20*want.notRestorable, path)
	}

	// A shorter range: the chart redraws in place, and the address says so.
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`button[data-range="1d"]`))); err != nil {
		t.Fatal(err)
	}
	type ranged struct {
		Marks   int
		Pressed string
		Hash    string
	}
	day, err := chromedp.Run(bctx, chromedp.Evaluate[ranged](`({
		Marks: document.querySelectorAll('#timeline .marks .cp-mark').length,
		Pressed: document.querySelector('.range [aria-pressed=true]').dataset.range,
		Hash: location.hash,
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if day.Marks != want.lastDay || day.Pressed != "1d" || !strings.HasSuffix(day.Hash, "/clusters/Cluster0?range=1d") {
		t.Errorf("range 1 day: %d marks, %q pressed, hash %q; want %d marks", day.Marks, day.Pressed, day.Hash, want.lastDay)
	}
	checkReadable(t, bctx, "1 day")
	saveScreenshot(t, bctx, "Cluster0-1d")

	// The projects, then the demo project's clusters, each linking on.
	for _, v := range []struct {
		hash  string
		links []string
	}{
		{"#/", []string{"#/projects/" + demo.ProjectID.Hex()}},
		{"#/projects/" + demo.ProjectID.Hex(), []string{
			"#/projects/" + demo.ProjectID.Hex() + "/clusters/Cluster0",
			"#/projects/" + demo.ProjectID.Hex() + "/clusters/Cluster1",
			"#/projects/" + demo.ProjectID.Hex() + "/clusters/LegacyCluster",
		}},
	} {
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.body.dataset.state = 'navigating'; location.hash = '`+v.hash+`'; true`)); err != nil {
			t.Fatal(err)
		}
		if state := waitState(t, bctx); state != "ready" {
			t.Fatalf("%s: state %q", v.hash, state)
		}
		links, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main table tbody a')].map((a) => a.getAttribute('href'))`))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(links, v.links) {
			t.Errorf("%s links to %q, want %q", v.hash, links, v.links)
		}
		saveScreenshot(t, bctx, "view"+strconv.Itoa(strings.Count(v.hash, "/")))
	}

	// The other demo clusters, reached by a new fragment: a lane per part
	// there too, a mirrored config server named as such.
	for _, c := range []struct {
		name  string
		lanes []string
	}{
		{"LegacyCluster", []string{"shard_0", "shard_1", "config servers"}},
		{"Cluster1", []string{"Cluster1-shard-0"}},
	} {
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.body.dataset.state = 'navigating'; location.hash = '#/projects/`+demo.ProjectID.Hex()+`/clusters/`+c.name+`'; true`)); err != nil {
			t.Fatal(err)
		}
		if state := waitState(t, bctx); state != "ready" {
			t.Fatalf("%s: state %q", c.name, state)
		}
		lanes, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#timeline g.lane')].map((g) => g.dataset.part)`))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(lanes, c.lanes) {
			t.Errorf("%s: lanes %q, want %q", c.name, lanes, c.lanes)
		}
		saveScreenshot(t, bctx, c.name)
	}

	checkURLCredentials(t, bctx, env)

	// An API error is shown with its status, errorCode and detail. The
	// page follows a new fragment without loading again.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.body.dataset.state = 'navigating'; location.hash = '#/projects/111111111111111111111111'; true`)); err != nil {
		t.Fatal(err)
	}
	if state := waitState(t, bctx); state != "error" {
		t.Fatalf("an unknown project: state %q, want error", state)
	}
	alert, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("[role=alert]")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(alert, "404") || !strings.Contains(alert, "GROUP_NOT_FOUND") || !strings.Contains(alert, "No group with ID 111111111111111111111111 exists.") {
		t.Errorf("an unknown project shows %q", alert)
	}
}

// checkReadable checks that the marks of the chart's checkpoints row do
// not merge: each stands apart from the next by at least a pixel, as
// drawn on the page, so that a week is not a solid bar. The triangles of
// the not restorable checkpoints are left out: they are drawn larger, on
// top of their neighbours, on purpose.
func checkReadable(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	type mark struct{ Left, Right float64 }
	marks, err := chromedp.Run(ctx, chromedp.Evaluate[[]mark](`[...document.querySelectorAll('#timeline .marks > :not(.not-restorable)')]
		.map((e) => e.getBoundingClientRect()).map((r) => ({Left: r.left, Right: r.right}))`))
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(marks, func(a, b mark) int { return cmp.Compare(a.Left, b.Left) })
	merged := 0
	for i := 1; i < len(marks); i++ {
		if marks[i].Left-marks[i-1].Right < 1 {
			merged++
		}
	}
	if len(marks) == 0 || merged > 0 {
		t.Errorf("range %s: %d of %d marks touch or overlap the one before: want each apart", what, merged, len(marks))
	}
}

// checkCaptionRoom checks that the newest checkpoints' caption is inside
// every box that clips it with room to spare: a glyph may reach a little
// outside its text box (a "T" to its left), and a clipping box flush
// with the text cut off the first letter.
func checkCaptionRoom(t *testing.T, ctx context.Context) {
	t.Helper()
	room, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(() => {
		const cap = document.querySelector('table.newest caption');
		const range = document.createRange();
		range.selectNodeContents(cap);
		const text = range.getBoundingClientRect();
		let room = Infinity;
		for (let e = cap; e; e = e.parentElement) {
			const s = getComputedStyle(e);
			if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
			const b = e.getBoundingClientRect();
			room = Math.min(room, text.left - b.left, b.right - text.right, text.top - b.top);
		}
		return room === Infinity ? 1000 : room;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if room < 2 {
		t.Errorf("the caption of the newest checkpoints has %.1f px inside the box clipping it; want at least 2, or the first letter is cut", room)
	}
}

// TestBrowser's second way in: the key in the page's address
// (http://public:private@host/ui/), which Chromium sends as Digest
// credentials for the page; the page's own API requests then leave the
// credentials out of their URLs (fetch() refuses them) and get them from
// the browser's cache. A separate browser context, so that nothing is
// cached from before.
func checkURLCredentials(t *testing.T, browser context.Context, env *browserEnv) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	u := strings.Replace(env.url, "http://", "http://"+env.pub+":"+env.priv+"@", 1) + "/ui/#/projects/" + demo.ProjectID.Hex() + "/clusters/Cluster0"
	res, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		t.Fatalf("credentials in the URL: status %d", res.Status)
	}
	if state := waitState(t, ctx); state != "ready" {
		text, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("credentials in the URL: the cluster view ended in state %q: %s", state, text)
	}
}

// saveScreenshot keeps a screenshot of the page as name.png in the
// directory CHECKPOINTD_SCREENSHOTS names, if any, to look at.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CHECKPOINTD_SCREENSHOTS")
	if dir == "" {
		return
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644)
	}
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// waitState waits for the page to finish a view and returns how it ended:
// "ready" or "error".
func waitState(t *testing.T, ctx context.Context) string {
	t.Helper()
	state, err := chromedp.Run(ctx, chromedp.Poll[string](`(document.body.dataset.state === 'ready' || document.body.dataset.state === 'error') && document.body.dataset.state`, chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting for the page: %v", err)
	}
	return state
}

// countColor counts the pixels of img inside r within tol of c on every
// channel.
func countColor(img image.Image, r image.Rectangle, c [3]uint8, tol int) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			R, G, B, _ := img.At(x, y).RGBA()
			if near(R>>8, c[0], tol) && near(G>>8, c[1], tol) && near(B>>8, c[2], tol) {
				n++
			}
		}
	}
	return n
}

func near(v uint32, c uint8, tol int) bool {
	d := int(v) - int(c)
	return d >= -tol && d <= tol
}
