package exampleset

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/switchboard/switchboard/internal/yamlfile"
)

// Load reads and checks the examples file at path against the teams the
// rules declare (see Parse).
func Load(path string, teams []string) (*Set, error) {
	data, err := yamlfile.ReadFile(path, maxBytes(path))
	if err != nil {
		return nil, fmt.Errorf("reading examples: %w", err)
	}
	return Parse(path, data, teams)
}

// Parse reads examples from data; file names the source in errors and
// decides the format: .tsv is TSV, .yaml and .yml are YAML. Every problem
// (syntax, unknown keys or columns, an unknown team, a duplicate id, a
// reply_to to no example or in a cycle) is reported as FILE:LINE:COL:
// message in a yamlfile.List, at most yamlfile.MaxErrors of them.
func Parse(file string, data []byte, teams []string) (*Set, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".tsv":
		return parseTSV(file, data, teams)
	case ".yaml", ".yml":
		return parseYAML(file, data, teams)
	}
	return nil, yamlfile.List{{File: file, Msg: "examples file: name it .yaml (or .yml) or .tsv, for its format"}}
}

func maxBytes(path string) int {
	if strings.EqualFold(filepath.Ext(path), ".tsv") {
		return MaxTSVBytes
	}
	return MaxYAMLBytes
}

// yamlFile is an examples file as written in YAML.
type yamlFile struct {
	Examples []yamlExample `yaml:"examples"`
}

type yamlExample struct {
	Team    string `yaml:"team"`
	Noise   bool   `yaml:"noise"`
	Text    string `yaml:"text"`
	Subject string `yaml:"subject"`
	Channel string `yaml:"channel"`
	Kind    string `yaml:"kind"`
	Lang    string `yaml:"lang"`
	ID      string `yaml:"id"`
	ReplyTo string `yaml:"reply_to"`
}

// yamlLimits bound an examples file before it is parsed.
func yamlLimits() yamlfile.Limits {
	return yamlfile.Limits{MaxBytes: MaxYAMLBytes, MaxDepth: 16, AliasHelp: "write each example out in full"}
}

func parseYAML(file string, data []byte, teams []string) (*Set, error) {
	var f yamlFile
	doc, err := yamlfile.DecodeLimited(file, data, &f, yamlLimits())
	if err != nil {
		return nil, err
	}
	if len(f.Examples) > MaxExamples {
		return nil, yamlfile.List{doc.Errorf(yamlfile.Path{"examples"}, "%d examples; at most %d in one file", len(f.Examples), MaxExamples)}
	}
	if len(f.Examples) == 0 {
		return nil, yamlfile.List{doc.Errorf(yamlfile.Path{"examples"}, "no examples: list them under examples:")}
	}
	set := &Set{File: file, Examples: make([]Example, len(f.Examples))}
	for i, y := range f.Examples {
		set.Examples[i] = Example{Team: y.Team, Noise: y.Noise, Text: y.Text, Subject: y.Subject, Channel: y.Channel,
			Kind: y.Kind, Lang: y.Lang, ID: y.ID, ReplyTo: y.ReplyTo, Line: doc.Errorf(yamlfile.Path{"examples", i}, "").Line}
	}
	ps := yamlfile.NewCollector(doc)
	validate(set, teams, func(i int, field string) *yamlfile.Error {
		return doc.Errorf(yamlfile.Path{"examples", i, field}, "")
	}, ps)
	if err := ps.List().Err(); err != nil {
		return nil, err
	}
	return set, nil
}
