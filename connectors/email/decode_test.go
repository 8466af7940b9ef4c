package email

import (
	"strings"
	"testing"
)

func TestDecodeCharset(t *testing.T) {
	tests := []struct {
		name, charset string
		in            []byte
		want          string
		guessed       bool
	}{
		{"ascii", "us-ascii", []byte("hello"), "hello", false},
		{"utf-8", "UTF-8", []byte("hyvää päivää"), "hyvää päivää", false},
		{"utf-8 quoted label", `"utf-8"`, []byte("ä"), "ä", false},
		{"iso-8859-1", "iso-8859-1", []byte("hyv\xe4\xe4 p\xe4iv\xe4\xe4"), "hyvää päivää", false},
		{"latin1 alias", "latin1", []byte("\xf6"), "ö", false},
		{"iso-8859-15 euro", "ISO-8859-15", []byte("10 \xa4"), "10 €", false},
		{"iso-8859-1 euro is 0xa4 currency sign", "iso-8859-1", []byte("10 \xa4"), "10 ¤", false},
		{"windows-1252", "windows-1252", []byte("\x93lainaus\x94 \x96 \x80"), "“lainaus” – €", false},
		{"windows-1252 labelled iso-8859-1", "iso-8859-1", []byte("\x80 \x96 \xe4"), "€ – ä", true},
		{"latin1 labelled utf-8", "utf-8", []byte("hyv\xe4\xe4"), "hyvää", true},
		{"utf-8 with a stray latin1 byte", "utf-8", []byte("päivää ja k\xe4si"), "päivää ja käsi", true},
		{"utf-8 labelled iso-8859-1", "iso-8859-1", []byte("hyvää"), "hyvää", true},
		{"unlabelled utf-8", "", []byte("hyvää"), "hyvää", false},
		{"unlabelled latin1", "", []byte("hyv\xe4\xe4"), "hyvää", true},
		{"8-bit labelled us-ascii", "us-ascii", []byte("hyv\xe4\xe4"), "hyvää", true},
		{"unknown label", "x-kummallinen", []byte("k\xe4si"), "käsi", true},
		{"unknown label utf-8 bytes", "x-unknown-charset", []byte("käsi"), "käsi", true},
		{"utf-8 bom", "utf-8", []byte("\xef\xbb\xbfhei"), "hei", false},
		{"utf-16le", "utf-16le", []byte("h\x00e\x00i\x00"), "hei", false},
		{"iso-2022-jp stays decoded", "iso-2022-jp", []byte("\x1b$B$3$s$K$A$O\x1b(B"), "こんにちは", false},
		{"koi8-r", "koi8-r", []byte("\xf0\xd2\xc9\xd7\xc5\xd4"), "Привет", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, guessed := decodeCharset(tt.charset, tt.in)
			if got != tt.want || guessed != tt.guessed {
				t.Fatalf("decodeCharset(%q, %q) = %q, guessed %v; want %q, %v", tt.charset, tt.in, got, guessed, tt.want, tt.guessed)
			}
		})
	}
}

func TestDecodeTransfer(t *testing.T) {
	tests := []struct {
		name, enc, in, want, problem string
	}{
		{"7bit", "7bit", "abc", "abc", ""},
		{"qp", "quoted-printable", "Hyv=C3=A4=C3=A4 p=C3=\r\n=A4iv=C3=A4=C3=A4", "Hyvää päivää", ""},
		{"qp lowercase hex and padding", "Quoted-Printable", "a=e4b= \t\nc", "a\xe4bc", ""},
		{"qp broken escape kept", "quoted-printable", "100=%, =ZZ and =4", "100=%, =ZZ and =4", ""},
		{"qp soft break at end", "quoted-printable", "abc=", "abc", ""},
		{"base64", "base64", "aHl2w6TDpA==", "hyvää", ""},
		{"base64 lines", "BASE64", "aHl2\r\nw6TD\r\npA==\r\n", "hyvää", ""},
		{"base64 padded per line", "base64", "YQ==\r\nYg==\r\n", "ab", ""},
		{"base64 url alphabet", "base64", "-_8", "\xfb\xff", ""},
		{"base64 stray characters", "base64", "aHl2!w6TDpA==", "hyvää", "outside the alphabet"},
		{"base64 cut short", "base64", "aHl2w6TDp", "hyvä\xc3", "middle of a byte"},
		{"unknown encoding", "x-uuencode", "begin 644", "begin 644", "unknown Content-Transfer-Encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := decodeTransfer(tt.enc, []byte(tt.in))
			if string(got) != tt.want {
				t.Errorf("decoded = %q, want %q", got, tt.want)
			}
			if tt.problem == "" && problem != "" || !strings.Contains(problem, tt.problem) {
				t.Errorf("problem = %q, want %q", problem, tt.problem)
			}
		})
	}
}

func TestDecodeHeaderText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"=?iso-8859-1?Q?Matti_Meik=E4l=E4inen?=", "Matti Meikäläinen"},
		{"=?UTF-8?B?UmVrbGFtYWF0aW8=?= =?UTF-8?Q?:_paketti?=", "Reklamaatio: paketti"},
		{"=?windows-1252?Q?=93Hei=94?=", "“Hei”"},
		{"=?x-unknown?Q?k=E4si?=", "käsi"},
		{"raw 8-bit J\xe4rvinen", "raw 8-bit Järvinen"},
		{"folded\r\n\tline  with   spaces", "folded line with spaces"},
		{"=?utf-8?Q?broken", "=?utf-8?Q?broken"},
		{"control\x00\x07chars", "control chars"},
	}
	for _, tt := range tests {
		if got := decodeHeaderText(tt.in); got != tt.want {
			t.Errorf("decodeHeaderText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseAddresses(t *testing.T) {
	tests := []struct {
		in   string
		want []address
	}{
		{"Matti <m@example.fi>", []address{{"Matti", "m@example.fi"}}},
		{"=?utf-8?Q?L=C3=A4hett=C3=A4j=C3=A4?= <l@example.fi>, b@example.fi", []address{{"Lähettäjä", "l@example.fi"}, {"", "b@example.fi"}}},
		{`"Korhonen, Anna" <anna@example.fi>`, []address{{"Korhonen, Anna", "anna@example.fi"}}},
		{"Korhonen, Anna <anna@example.fi>", []address{{"Korhonen, Anna", "anna@example.fi"}}},
		{"anna@example.fi (Anna K)", []address{{"Anna K", "anna@example.fi"}}},
		{"J\xe4rvinen Pekka <pekka@example.fi>", []address{{"Järvinen Pekka", "pekka@example.fi"}}},
		{"undisclosed-recipients:;", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got := parseAddresses(tt.in)
		if len(got) != len(tt.want) {
			t.Errorf("parseAddresses(%q) = %v, want %v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("parseAddresses(%q)[%d] = %v, want %v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func TestAddressString(t *testing.T) {
	tests := []struct {
		a    address
		want string
	}{
		{address{"", "a@b"}, "a@b"},
		{address{"Matti Meikäläinen", "m@b"}, "Matti Meikäläinen <m@b>"},
		{address{"Korhonen, Anna", "a@b"}, `"Korhonen, Anna" <a@b>`},
		{address{`Say "hi"`, "a@b"}, `"Say \"hi\"" <a@b>`},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestUnflow(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		delsp bool
		want  string
	}{
		{"joins soft breaks", "Tämä on pitkä \nrivi joka \njatkuu.\nUusi rivi.", false, "Tämä on pitkä rivi joka jatkuu.\nUusi rivi."},
		{"delsp", "pitkä sa\nna", false, "pitkä sa\nna"},
		{"delsp removes the space", "pitkä sa \nna", true, "pitkä sana"},
		{"signature delimiter is not flowed", "teksti\n-- \nMatti", false, "teksti\n--\nMatti"},
		{"quote depth", "> lainattu \n> jatkuu\n>> syvempi", false, "> lainattu jatkuu\n>> syvempi"},
		{"space stuffing", " From here\n", false, "From here"},
		{"CRLF", "yksi \r\nkaksi\r\nkolme", false, "yksi kaksi\nkolme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := newTextSink(1 << 20)
			unflow(tt.in, tt.delsp, out)
			if got := out.String(); got != tt.want {
				t.Fatalf("unflow(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
