package businesshours

import (
	"math/rand/v2"
	"testing"
	"time"
)

func helsinki(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// office is Monday to Friday 08:00-16:00.
func office(t testing.TB, holidays ...Date) *Calendar {
	t.Helper()
	var w Week
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = []Span{{8 * 60, 16 * 60}}
	}
	c, err := New(helsinki(t), w, holidays)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func at(loc *time.Location, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAdd(t *testing.T) {
	loc := helsinki(t)
	c := office(t, Date{2026, time.December, 24})
	tests := []struct {
		name, start string
		d           time.Duration
		want        string
	}{
		{"friday 17:00 plus 8h is due on monday, not saturday", "2026-11-20 17:00", 8 * time.Hour, "2026-11-23 16:00"},
		{"inside hours, same day", "2026-11-18 09:00", 2 * time.Hour, "2026-11-18 11:00"},
		{"spills into the next morning", "2026-11-18 15:00", 2 * time.Hour, "2026-11-19 09:00"},
		{"before opening counts from opening", "2026-11-18 06:00", time.Hour, "2026-11-18 09:00"},
		{"ends exactly at closing", "2026-11-18 08:00", 8 * time.Hour, "2026-11-18 16:00"},
		{"weekend start", "2026-11-21 12:00", 30 * time.Minute, "2026-11-23 08:30"},
		{"holiday skipped", "2026-12-23 15:00", 2 * time.Hour, "2026-12-25 09:00"},
		{"24h of business hours is three days", "2026-11-16 08:00", 24 * time.Hour, "2026-11-18 16:00"},
		{"zero", "2026-11-21 12:00", 0, "2026-11-21 12:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Add(at(loc, tt.start), tt.d)
			if want := at(loc, tt.want); !got.Equal(want) {
				t.Fatalf("Add(%s, %s) = %s, want %s", tt.start, tt.d, got.In(loc), want)
			}
		})
	}
}

func TestAlways(t *testing.T) {
	c := Always()
	start := time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)
	if got := c.Add(start, 90*time.Minute); !got.Equal(start.Add(90 * time.Minute)) {
		t.Fatalf("Always().Add = %s", got)
	}
	if !c.Open(start) || c.Between(start, start.Add(time.Hour)) != time.Hour {
		t.Fatal("Always must be open")
	}
}

// The nights the clocks change in Helsinki: open hours on the wall clock,
// elapsed time in real hours.
func TestDaylightSaving(t *testing.T) {
	loc := helsinki(t)
	var w Week
	for d := range w {
		w[d] = []Span{{2 * 60, 5 * 60}} // 02:00-05:00 every night
	}
	c, err := New(loc, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		day        string
		openForDay time.Duration
	}{
		{"spring forward: 03:00-04:00 does not exist", "2026-03-29", 2 * time.Hour},
		{"fall back: 03:00-04:00 happens twice", "2026-10-25", 4 * time.Hour},
		{"ordinary night", "2026-06-10", 3 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := at(loc, tt.day+" 00:00")
			if got := c.Between(from, from.Add(20*time.Hour)); got != tt.openForDay {
				t.Fatalf("open time on %s = %s, want %s", tt.day, got, tt.openForDay)
			}
			due := c.Add(from, tt.openForDay)
			if l := due.In(loc); l.Hour() != 5 || l.Minute() != 0 {
				t.Fatalf("Add(%s 00:00, %s) = %s, want 05:00 that night", tt.day, tt.openForDay, l)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	loc := helsinki(t)
	tests := []struct {
		name string
		week Week
	}{
		{"empty week", Week{}},
		{"end before start", Week{time.Monday: {{600, 500}}}},
		{"past midnight", Week{time.Monday: {{600, 1500}}}},
		{"overlap", Week{time.Monday: {{600, 700}, {650, 800}}}},
	}
	for _, tt := range tests {
		if _, err := New(loc, tt.week, nil); err == nil {
			t.Errorf("%s: New accepted %v", tt.name, tt.week)
		}
	}
	if _, err := New(nil, Week{time.Monday: {{0, 60}}}, nil); err == nil {
		t.Error("New accepted a nil location")
	}
}

// refOpen is the reference model of Open, written from the inputs alone.
func refOpen(loc *time.Location, week Week, holidays map[Date]bool, t time.Time) bool {
	l := t.In(loc)
	y, m, d := l.Date()
	if holidays[Date{y, m, d}] {
		return false
	}
	min := l.Hour()*60 + l.Minute()
	for _, s := range week[l.Weekday()] {
		if min >= s.Start && min < s.End {
			return true
		}
	}
	return false
}

// refAdd walks minute by minute: the due time is the end of the d-th open
// minute after t (t on a whole minute, d whole minutes).
func refAdd(loc *time.Location, week Week, holidays map[Date]bool, t time.Time, d time.Duration) time.Time {
	need := int(d / time.Minute)
	x := t
	for need > 0 {
		if refOpen(loc, week, holidays, x) {
			need--
		}
		x = x.Add(time.Minute)
	}
	return x
}

func randomWeek(r *rand.Rand) Week {
	var w Week
	for d := range w {
		pos := 0
		for pos < MinutesPerDay && r.IntN(3) > 0 {
			start := pos + r.IntN(8)*30
			end := start + 15*(1+r.IntN(24))
			if start >= MinutesPerDay {
				break
			}
			end = min(end, MinutesPerDay)
			w[d] = append(w[d], Span{start, end})
			pos = end + 15*r.IntN(4)
		}
	}
	if len(w[time.Wednesday]) == 0 {
		w[time.Wednesday] = []Span{{9 * 60, 17 * 60}}
	}
	return w
}

// Add, Open and Between agree with the minute-by-minute reference on random
// calendars and starts around the year, the daylight-saving nights
// included.
func TestAddMatchesMinuteReference(t *testing.T) {
	loc := helsinki(t)
	r := rand.New(rand.NewPCG(15, 2026))
	dstNights := []time.Time{at(loc, "2026-03-28 20:00"), at(loc, "2026-10-24 20:00")}
	cases := 400
	if testing.Short() {
		cases = 60
	}
	for i := range cases {
		week := randomWeek(r)
		holidays := map[Date]bool{}
		var hl []Date
		base := at(loc, "2026-01-01 00:00")
		if i%4 == 0 {
			base = dstNights[i/4%2].Add(-time.Duration(r.IntN(72)) * time.Hour)
		}
		for range r.IntN(4) {
			d := DateOf(base.AddDate(0, 0, r.IntN(10)).In(loc))
			holidays[d] = true
			hl = append(hl, d)
		}
		c, err := New(loc, week, hl)
		if err != nil {
			t.Fatal(err)
		}
		start := base.Add(time.Duration(r.IntN(14*24*60)) * time.Minute)
		if i%4 != 0 {
			start = base.AddDate(0, 0, r.IntN(365)).Add(time.Duration(r.IntN(24*60)) * time.Minute)
		}
		d := time.Duration(1+r.IntN(3*24*60)) * time.Minute
		want := refAdd(loc, week, holidays, start, d)
		if got := c.Add(start, d); !got.Equal(want) {
			t.Fatalf("case %d: week %v holidays %v: Add(%s, %s) = %s, reference %s", i, week, hl, start.In(loc), d, got.In(loc), want.In(loc))
		}
		if got := c.Between(start, want); got != d {
			t.Fatalf("case %d: Between(%s, %s) = %s, want %s", i, start.In(loc), want.In(loc), got, d)
		}
		probe := start.Add(time.Duration(r.IntN(7*24*60)) * time.Minute)
		if c.Open(probe) != refOpen(loc, week, holidays, probe) {
			t.Fatalf("case %d: Open(%s) disagrees with the reference", i, probe.In(loc))
		}
	}
}

func BenchmarkAdd24hOffice(b *testing.B) {
	c := office(b)
	start := at(helsinki(b), "2026-11-20 17:00")
	for b.Loop() {
		c.Add(start, 24*time.Hour)
	}
}
