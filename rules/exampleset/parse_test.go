package exampleset

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/rules/rulestest"
)

var teams = []string{"triage", "billing", "logistics"}

func TestParseYAML(t *testing.T) {
	set, err := Parse("ex.yaml", []byte(`examples:
  - team: billing
    text: "Laskussa on virhe"
  - team: logistics
    text: Paketti ei tullut
    channel: facebook
    id: fb-1
  - noise: true
    text: "Klikkaa tästä"
    channel: x
    kind: mention
    lang: fi
  - team: logistics
    text: sama juttu
    channel: facebook
    kind: reply
    subject: Re
    reply_to: fb-1
`), teams)
	if err != nil {
		t.Fatal(err)
	}
	want := []Example{
		{Team: "billing", Text: "Laskussa on virhe", Channel: "web", Kind: "web", Line: 2},
		{Team: "logistics", Text: "Paketti ei tullut", Channel: "facebook", Kind: "comment", ID: "fb-1", Line: 4},
		{Noise: true, Text: "Klikkaa tästä", Channel: "x", Kind: "mention", Lang: "fi", Line: 8},
		{Team: "logistics", Text: "sama juttu", Channel: "facebook", Kind: "reply", Subject: "Re", ReplyTo: "fb-1", Line: 13},
	}
	if len(set.Examples) != len(want) {
		t.Fatalf("%d examples: %+v", len(set.Examples), set.Examples)
	}
	for i := range want {
		if set.Examples[i] != want[i] {
			t.Errorf("example %d:\n got %+v\nwant %+v", i, set.Examples[i], want[i])
		}
	}
	if env := set.Envelope(3); env.ParentID != "facebook:example-fb-1" || env.ID != "facebook:example#4" || env.Validate() != nil {
		t.Errorf("reply envelope %+v: %v", env, env.Validate())
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, data string
		want             []string
	}{
		{"unknown key", "ex.yaml", "examples:\n  - team: billing\n    txt: lasku\n",
			[]string{`ex.yaml:3:5: unknown field "txt"`}},
		{"unknown team", "ex.yaml", "examples:\n  - team: biling\n    text: lasku\n",
			[]string{`ex.yaml:2:11: unknown team "biling": the rules declare triage, billing, logistics`}},
		{"team and noise", "ex.yaml", "examples:\n  - {team: billing, noise: true, text: x}\n",
			[]string{`ex.yaml:2:12: an example has a team or is noise, not both`}},
		{"no team, no text", "ex.yaml", "examples:\n  - channel: web\n",
			[]string{`ex.yaml:2:5: the example needs a text`, `ex.yaml:2:5: the example needs a team`}},
		{"bad values", "ex.yaml", "examples:\n  - {team: billing, text: x, channel: Facebook, kind: tweet, lang: Finnish}\n",
			[]string{`ex.yaml:2:39: channel "Facebook": use facebook, x, email, web`, `ex.yaml:2:55: kind "tweet"`, `ex.yaml:2:68: lang "Finnish"`}},
		{"duplicate id", "ex.yaml", "examples:\n  - {team: billing, text: x, id: a}\n  - {team: billing, text: y, id: a}\n",
			[]string{`ex.yaml:3:34: duplicate id "a" (also on line 2)`}},
		{"reply to nothing", "ex.yaml", "examples:\n  - {team: billing, text: x, reply_to: nope}\n",
			[]string{`ex.yaml:2:40: reply_to "nope": no example has that id`}},
		{"reply cycle", "ex.yaml", "examples:\n  - {team: billing, text: x, id: a, reply_to: b}\n  - {team: billing, text: y, id: b, reply_to: a}\n",
			[]string{`ex.yaml:2:47: replies form a cycle: a → b → a`, `ex.yaml:3:47: replies form a cycle: b → a → b`}},
		{"reply to itself", "ex.yaml", "examples:\n  - {team: billing, text: x, id: a, reply_to: a}\n",
			[]string{`ex.yaml:2:47: replies form a cycle: a → a`}},
		{"alias", "ex.yaml", "examples:\n  - &a {team: billing, text: x}\n  - *a\n",
			[]string{`ex.yaml:2:5: "&a" is an anchor`, `ex.yaml:3:5: "*a" is an alias`}},
		{"empty", "ex.yaml", "examples: []\n", []string{"ex.yaml:1:11: no examples"}},
		{"syntax", "ex.yaml", "examples:\n  - [\n", []string{"ex.yaml:"}},
		{"format", "ex.csv", "team,text\n", []string{"ex.csv: examples file: name it .yaml (or .yml) or .tsv"}},
		{"tsv unknown column", "ex.tsv", "team\ttext\tcolour\n", []string{`ex.tsv:1:11: unknown column "colour": use team, text, channel, kind, lang, subject, id, reply_to`}},
		{"tsv no team column", "ex.tsv", "text\n", []string{"ex.tsv:1:1: the header needs a team column"}},
		{"tsv too many fields", "ex.tsv", "team\ttext\nbilling\tlasku\textra\n", []string{"ex.tsv:2:15: 3 fields, but the header names 2 columns"}},
		{"tsv unknown team", "ex.tsv", "# comment\ntext\tteam\nlasku\tbiling\n", []string{`ex.tsv:3:7: unknown team "biling"`}},
		{"tsv reply to nothing", "ex.tsv", "team\ttext\treply_to\nbilling\tx\tnope\n", []string{`ex.tsv:2:11: reply_to "nope": no example has that id`}},
		{"tsv header only", "ex.tsv", "team\ttext\n", []string{"ex.tsv: no examples"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.data), teams)
			rulestest.WantProblems(t, err, tt.want)
		})
	}
}

func TestParseTSV(t *testing.T) {
	data := "# exported from the sheet\r\n" +
		"text\tteam\tchannel\tid\treply_to\tsubject\r\n" +
		"Laskussa on virhe\tbilling\r\n" +
		"\r\n" +
		"Paketti\\tei tullut\\nvieläkään \\\\o/\tlogistics\tfacebook\tfb-1\r\n" +
		"sama juttu\tlogistics\tfacebook\t\tfb-1\tRe: x\r\n" +
		"Klikkaa tästä C:\\temp\t(noise)\tx"
	set, err := Parse("ex.tsv", []byte(data), teams)
	if err != nil {
		t.Fatal(err)
	}
	want := []Example{
		{Team: "billing", Text: "Laskussa on virhe", Channel: "web", Kind: "web", Line: 3},
		{Team: "logistics", Text: "Paketti\tei tullut\nvieläkään \\o/", Channel: "facebook", Kind: "comment", ID: "fb-1", Line: 5},
		{Team: "logistics", Text: "sama juttu", Channel: "facebook", Kind: "comment", ReplyTo: "fb-1", Subject: "Re: x", Line: 6},
		{Noise: true, Text: "Klikkaa tästä C:\temp", Channel: "x", Kind: "mention", Line: 7},
	}
	if len(set.Examples) != len(want) {
		t.Fatalf("%d examples: %+v", len(set.Examples), set.Examples)
	}
	for i := range want {
		if set.Examples[i] != want[i] {
			t.Errorf("example %d:\n got %+v\nwant %+v", i, set.Examples[i], want[i])
		}
	}
}

func TestParseCaps(t *testing.T) {
	var b strings.Builder
	b.WriteString("team\ttext\n")
	for range MaxExamples + 1 {
		b.WriteString("billing\tlasku\n")
	}
	if _, err := Parse("ex.tsv", []byte(b.String()), teams); err == nil || !strings.Contains(err.Error(), "more than 20000 examples") {
		t.Fatalf("too many examples: %v", err)
	}
	big := "examples:\n  - {team: billing, text: x}\n# " + strings.Repeat("x", MaxYAMLBytes) + "\n"
	if _, err := Parse("ex.yaml", []byte(big), teams); err == nil || !strings.Contains(err.Error(), "the file is") {
		t.Fatalf("too big: %v", err)
	}
}
