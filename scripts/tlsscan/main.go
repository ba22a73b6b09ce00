// Command tlsscan judges the JSON findings of testssl.sh scans of replicasd
// (scripts/tls-scan.sh runs them) and prints a Markdown summary for
// docs/security.md. It exits 1 when a scan offers a protocol below the
// configured minimum, offers a weak cipher, or reports a finding rated
// MEDIUM or higher that is not in the accepted list below.
//
//	go run ./scripts/tlsscan [-testssl-version V] [-mtls=N] FILE.json:VersionTLS13 FILE.json:VersionTLS12 ...
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// finding is one entry of testssl.sh's flat JSON output.
type finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Finding  string `json:"finding"`
}

// accepted are findings rated MEDIUM or higher that are not about replicasd
// but about the development certificate the scan uses; each says why.
var accepted = map[string]string{
	"cert_revocation": "the development server certificate names no CRL or OCSP URI: replicasd's certificates come from the operator's private CA " +
		"(cert-manager or `replicasd certs`), which clients trust directly; a server certificate is withdrawn by rotating it (it is reloaded without a restart), " +
		"not through a public revocation service",
}

// protocols are testssl.sh's protocol ids, oldest first, with their names.
var protocols = []struct{ id, name string }{
	{"SSLv2", "SSL 2"}, {"SSLv3", "SSL 3"}, {"TLS1", "TLS 1.0"}, {"TLS1_1", "TLS 1.1"}, {"TLS1_2", "TLS 1.2"}, {"TLS1_3", "TLS 1.3"},
}

// allowedProtocols maps --tls-min-version to the protocols it may offer.
var allowedProtocols = map[string][]string{
	"VersionTLS13": {"TLS1_3"},
	"VersionTLS12": {"TLS1_2", "TLS1_3"},
}

// vulnerabilities are the ids of testssl.sh's vulnerability checks.
var vulnerabilities = []string{
	"heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego", "CRIME_TLS", "BREACH",
	"POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4",
}

// strongCipherLists are the only cipher categories that may be offered.
var strongCipherLists = []string{"cipherlist_STRONG", "cipherlist_GOOD"}

func main() {
	version := flag.String("testssl-version", "", "testssl.sh version, for the summary")
	mtls := flag.Int("mtls", 0, "whether the scans presented a client certificate (non-zero: yes)")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: tlsscan [flags] FILE.json:MIN_VERSION ...")
		os.Exit(2)
	}
	ok := report(os.Stdout, *version, *mtls != 0, flag.Args())
	if !ok {
		os.Exit(1)
	}
}

// report prints the summary of every scan and reports whether all passed.
func report(w io.Writer, version string, mtls bool, scans []string) bool {
	fmt.Fprintf(w, "### testssl.sh %s against replicasd, %s\n\n", version, time.Now().UTC().Format("2006-01-02"))
	if !mtls {
		fmt.Fprintln(w, "This testssl.sh cannot present a client certificate (`--mtls` came in 3.2), so it sees every handshake refused after the server's")
		fmt.Fprintln(w, "flight and skips the HTTP checks; protocols, ciphers, the certificate and the vulnerability checks all run on the handshake.")
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "| --tls-min-version | protocols offered | cipher suites | weak cipher categories | vulnerability checks | findings MEDIUM or higher | verdict |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	allOK := true
	var notes, seen []string
	for _, arg := range scans {
		file, minVersion, found := strings.Cut(arg, ":")
		if !found || allowedProtocols[minVersion] == nil {
			fmt.Fprintf(w, "| %s | | | | | | bad argument: want FILE.json:VersionTLS13 or :VersionTLS12 |\n", arg)
			allOK = false
			continue
		}
		r, err := judge(file, minVersion)
		if err != nil {
			fmt.Fprintf(w, "| %s | | | | | | %v |\n", minVersion, err)
			allOK = false
			continue
		}
		verdict := "pass"
		if len(r.problems) > 0 {
			verdict = "**FAIL**: " + strings.Join(r.problems, "; ")
			allOK = false
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n",
			minVersion, orNone(r.offered), orNone(r.ciphers), orNone(r.weak), r.vulnerabilities, orNone(r.severe), verdict)
		notes = append(notes, r.notes...)
		seen = append(seen, r.accepted...)
	}
	slices.Sort(seen)
	seen = slices.Compact(seen)
	if len(seen) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Accepted findings (rated MEDIUM or higher, about the development certificate, not replicasd):")
		fmt.Fprintln(w)
		for _, id := range seen {
			fmt.Fprintf(w, "- `%s`: %s.\n", id, accepted[id])
		}
	}
	slices.Sort(notes)
	notes = slices.Compact(notes)
	if len(notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Other findings of the scans:")
		fmt.Fprintln(w)
		for _, n := range notes {
			fmt.Fprintln(w, "- "+n)
		}
	}
	return allOK
}

// result is what one scan showed.
type result struct {
	offered, ciphers, weak, severe []string
	problems                       []string
	notes                          []string
	accepted                       []string // ids of accepted findings seen
	vulnerabilities                string   // how the vulnerability checks went
}

func judge(file, minVersion string) (*result, error) {
	data, err := os.ReadFile(file) // #nosec G304 -- the scan files tls-scan.sh names
	if err != nil {
		return nil, err
	}
	var findings []finding
	if err := json.Unmarshal(data, &findings); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	byID := map[string]finding{}
	for _, f := range findings {
		byID[f.ID] = f
	}
	r := &result{}
	for _, p := range protocols {
		f, ok := byID[p.id]
		if !ok {
			r.problems = append(r.problems, "no result for "+p.name+": the scan did not complete")
			continue
		}
		if offered(f) {
			r.offered = append(r.offered, p.name)
			if !slices.Contains(allowedProtocols[minVersion], p.id) {
				r.problems = append(r.problems, p.name+" is offered")
			}
		}
	}
	if f, ok := byID["TLS1_3"]; ok && !offered(f) {
		r.problems = append(r.problems, "TLS 1.3 is not offered")
	}
	for _, f := range findings {
		switch {
		case strings.HasPrefix(f.ID, "cipherlist_"):
			if offered(f) && !slices.Contains(strongCipherLists, f.ID) {
				r.weak = append(r.weak, strings.TrimPrefix(f.ID, "cipherlist_"))
				r.problems = append(r.problems, "weak ciphers offered: "+f.ID)
			}
		case strings.HasPrefix(f.ID, "cipher_x"):
			if fields := strings.Fields(f.Finding); len(fields) > 1 {
				r.ciphers = append(r.ciphers, fields[1])
			}
		}
		switch f.Severity {
		case "MEDIUM", "HIGH", "CRITICAL":
			if _, ok := accepted[f.ID]; ok {
				r.accepted = append(r.accepted, f.ID)
				continue
			}
			r.severe = append(r.severe, fmt.Sprintf("%s %s: %s", f.Severity, f.ID, f.Finding))
			r.problems = append(r.problems, fmt.Sprintf("%s finding %s", f.Severity, f.ID))
		case "LOW", "WARN":
			r.notes = append(r.notes, fmt.Sprintf("%s `%s`: %s", f.Severity, f.ID, strings.TrimSpace(f.Finding)))
		}
	}
	var passed, untested []string
	for _, id := range vulnerabilities {
		switch f, ok := byID[id]; {
		case !ok:
		case f.Severity == "OK" || f.Severity == "INFO" || f.Severity == "LOW":
			passed = append(passed, id)
		case f.Severity == "WARN":
			untested = append(untested, id)
		}
	}
	r.vulnerabilities = fmt.Sprintf("%d not vulnerable", len(passed))
	if len(untested) > 0 {
		r.vulnerabilities += fmt.Sprintf(", %s not testable", strings.Join(untested, ", "))
	}
	if len(passed) == 0 {
		r.problems = append(r.problems, "no vulnerability check passed: the scan did not complete")
	}
	if len(r.ciphers) == 0 {
		r.problems = append(r.problems, "no cipher suites found: the scan did not complete")
	}
	return r, nil
}

// offered reads testssl.sh's "offered", "offered with final", "not offered".
func offered(f finding) bool {
	return strings.HasPrefix(f.Finding, "offered")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
