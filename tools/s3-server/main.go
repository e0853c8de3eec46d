// Command s3-server is an S3-compatible object store on a loopback address for the tests of the
// library's S3 backup storage: gofakes3 (github.com/johannesboyne/gofakes3, in memory) behind a
// check of AWS Signature Version 4, so that only requests signed with the one access key pair it
// is given get through. Built by tools/build.sh (`tools/build.sh s3-server`); nothing here is part
// of the cdk8s-vitess library.
//
//	S3_SERVER_SECRET_ACCESS_KEY=<secret> s3-server -access-key-id <id> -bucket <name> [-seed <dir>] [-region <r>]
//
// It listens on 127.0.0.1 at a free port, creates the bucket, puts every file under -seed into it
// (its path below the folder is the object key), then prints `listening on 127.0.0.1:<port>` on
// standard output. Each request is logged on standard error with the outcome of the signature
// check: `s3-server: allowed GET /bucket` or `s3-server: refused 403 SignatureDoesNotMatch GET /bucket`.
//
// The check covers requests signed in the Authorization header (AWS4-HMAC-SHA256): the canonical
// request is rebuilt from the method, the path as sent, the query (sorted, RFC 3986 encoded), the
// signed headers and the payload hash of X-Amz-Content-Sha256, and the signature recomputed with
// the secret key; presigned URLs and the per-chunk signatures of streamed uploads are not checked.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	accessKeyID := flag.String("access-key-id", "", "the one access key ID that is accepted")
	bucket := flag.String("bucket", "", "the bucket to create")
	seed := flag.String("seed", "", "a folder whose files are put into the bucket, keyed by their path below it")
	region := flag.String("region", "us-east-1", "the region that requests must be signed for")
	flag.Parse()
	secret := os.Getenv("S3_SERVER_SECRET_ACCESS_KEY")
	if *accessKeyID == "" || secret == "" || *bucket == "" {
		log.Fatal("s3-server: -access-key-id, -bucket and the environment variable S3_SERVER_SECRET_ACCESS_KEY are required")
	}

	backend := s3mem.New()
	if err := backend.CreateBucket(*bucket); err != nil {
		log.Fatalf("s3-server: creating bucket %s: %v", *bucket, err)
	}
	if *seed != "" {
		err := filepath.WalkDir(*seed, func(file string, entry fs.DirEntry, err error) error {
			if err != nil || entry.IsDir() {
				return err
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			key, err := filepath.Rel(*seed, file)
			if err != nil {
				return err
			}
			_, err = backend.PutObject(*bucket, filepath.ToSlash(key), map[string]string{}, bytes.NewReader(data), int64(len(data)), nil)
			return err
		})
		if err != nil {
			log.Fatalf("s3-server: seeding from %s: %v", *seed, err)
		}
	}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("s3-server: %v", err)
	}
	handler := &sigV4{next: gofakes3.New(backend).Server(), accessKeyID: *accessKeyID, secret: secret, region: *region}
	fmt.Printf("listening on %s\n", listener.Addr())
	log.Fatal(http.Serve(listener, handler))
}

// sigV4 passes on only the requests signed with its key pair.
type sigV4 struct {
	next        http.Handler
	accessKeyID string
	secret      string
	region      string
}

func (s *sigV4) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if code, message := s.check(r); code != "" {
		fmt.Fprintf(os.Stderr, "s3-server: refused 403 %s %s %s: %s\n", code, r.Method, r.URL.Path, message)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, message)
		return
	}
	fmt.Fprintf(os.Stderr, "s3-server: allowed %s %s\n", r.Method, r.URL.Path)
	s.next.ServeHTTP(w, r)
}

// check returns an S3 error code and message, or "" when the request is signed with the key pair.
func (s *sigV4) check(r *http.Request) (string, string) {
	auth := r.Header.Get("Authorization")
	const algorithm = "AWS4-HMAC-SHA256"
	if !strings.HasPrefix(auth, algorithm+" ") {
		return "AccessDenied", "the request is not signed with " + algorithm
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algorithm+" "), ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			fields[name] = value
		}
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return "AuthorizationHeaderMalformed", "the Authorization header lacks Credential, SignedHeaders or Signature"
	}
	if scope[0] != s.accessKeyID {
		return "InvalidAccessKeyId", "the access key ID is not known"
	}
	if scope[2] != s.region || scope[3] != "s3" || scope[4] != "aws4_request" {
		return "AuthorizationHeaderMalformed", "the credential scope is not <date>/" + s.region + "/s3/aws4_request"
	}
	date := r.Header.Get("X-Amz-Date")
	if !strings.HasPrefix(date, scope[1]) {
		return "AuthorizationHeaderMalformed", "X-Amz-Date does not match the credential scope's date"
	}
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return "IncompleteBody", err.Error()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}

	signedHeaders := strings.Split(fields["SignedHeaders"], ";")
	var headers strings.Builder
	for _, name := range signedHeaders {
		var value string
		switch name {
		case "host":
			value = r.Host
		case "content-length":
			value = strconv.FormatInt(r.ContentLength, 10)
		default:
			value = strings.Join(r.Header.Values(name), ",")
		}
		headers.WriteString(name + ":" + strings.Join(strings.Fields(value), " ") + "\n")
	}
	query := r.URL.Query()
	for key := range query {
		sort.Strings(query[key])
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{
		r.Method,
		path,
		strings.ReplaceAll(query.Encode(), "+", "%20"),
		headers.String(),
		fields["SignedHeaders"],
		payloadHash,
	}, "\n")
	canonicalHash := sha256.Sum256([]byte(canonical))
	stringToSign := strings.Join([]string{algorithm, date, strings.Join(scope[1:], "/"), hex.EncodeToString(canonicalHash[:])}, "\n")
	key := []byte("AWS4" + s.secret)
	for _, part := range scope[1:] {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, stringToSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return "SignatureDoesNotMatch", "the signature does not match the one computed with the secret key"
	}
	return "", ""
}

func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}
