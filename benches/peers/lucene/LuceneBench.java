// Lucene peer of chansearch: indexes benches' posts.tsv and measures the same query set the
// same way as the Rust `peers` binary (benches/src/peers.rs), writing the same JSON report.
//
//   java -cp CLASSES:LUCENE_JARS LuceneBench TSV INDEX_DIR QUERIES CLIENTS SECONDS OUT_JSON
//
// Analysis mirrors chansearch's (indexer/src/analysis/mod.rs) as far as Lucene allows:
// StandardTokenizer, tokens over 40 chars dropped, lowercase (Turkish rules for tr), the same
// Snowball stemmers for ru, en, de, fr, es, tr, ar, Arabic normalization for ar and fa, CJK
// bigrams; uk, kk, fa and unknown languages lowercased only (chansearch has its own Kazakh
// stemmer, Lucene none). Each post is analyzed with its language's chain (the language
// chansearch's detector gave it in posts.tsv). A query word is analyzed with every chain of
// its script and its forms OR'd; the words are AND'd. BM25, top 10 plus the exact count, the
// 10 stored documents loaded.

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.ar.ArabicNormalizationFilter;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.miscellaneous.LengthFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tr.TurkishLowerCaseFilter;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.PhraseQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopScoreDocCollector;
import org.apache.lucene.store.FSDirectory;
import org.tartarus.snowball.SnowballProgram;
import org.tartarus.snowball.ext.ArabicStemmer;
import org.tartarus.snowball.ext.EnglishStemmer;
import org.tartarus.snowball.ext.FrenchStemmer;
import org.tartarus.snowball.ext.GermanStemmer;
import org.tartarus.snowball.ext.RussianStemmer;
import org.tartarus.snowball.ext.SpanishStemmer;
import org.tartarus.snowball.ext.TurkishStemmer;

public final class LuceneBench {
    static final String BODY = "body";
    static final double P99_BUDGET_MS = 50.0;

    /** One analysis chain per language code; "und" is lowercase only. */
    static final class LangAnalyzer extends Analyzer {
        final String lang;

        LangAnalyzer(String lang) {
            this.lang = lang;
        }

        @Override
        protected TokenStreamComponents createComponents(String field) {
            Tokenizer src = new StandardTokenizer();
            TokenStream ts = new LengthFilter(src, 1, 40);
            ts = lang.equals("tr") ? new TurkishLowerCaseFilter(ts) : new LowerCaseFilter(ts);
            if (lang.equals("ar") || lang.equals("fa")) {
                ts = new ArabicNormalizationFilter(ts);
            }
            SnowballProgram stemmer = stemmer(lang);
            if (stemmer != null) {
                ts = new SnowballFilter(ts, stemmer);
            }
            ts = new CJKBigramFilter(ts);
            return new TokenStreamComponents(src, ts);
        }

        static SnowballProgram stemmer(String lang) {
            switch (lang) {
                case "ru": return new RussianStemmer();
                case "en": return new EnglishStemmer();
                case "de": return new GermanStemmer();
                case "fr": return new FrenchStemmer();
                case "es": return new SpanishStemmer();
                case "tr": return new TurkishStemmer();
                case "ar": return new ArabicStemmer();
                default: return null;
            }
        }
    }

    static final String[] LANGS = {"ru", "uk", "kk", "en", "de", "fr", "es", "tr", "fa", "ar", "zh", "und"};
    static final Map<String, Analyzer> ANALYZERS = new HashMap<>();

    static {
        for (String l : LANGS) {
            ANALYZERS.put(l, new LangAnalyzer(l));
        }
    }

    static Analyzer analyzer(String lang) {
        Analyzer a = ANALYZERS.get(lang);
        return a != null ? a : ANALYZERS.get("und");
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: LuceneBench TSV INDEX_DIR QUERIES CLIENTS SECONDS OUT_JSON");
            System.exit(2);
        }
        Path tsv = Paths.get(args[0]);
        Path dir = Paths.get(args[1]);
        List<String> queries = new ArrayList<>();
        for (String l : Files.readAllLines(Paths.get(args[2]), StandardCharsets.UTF_8)) {
            if (!l.isBlank()) {
                queries.add(l);
            }
        }
        int[] clients = Arrays.stream(args[3].split(",")).mapToInt(Integer::parseInt).toArray();
        double seconds = Double.parseDouble(args[4]);

        long t0 = System.nanoTime();
        long docs = index(tsv, dir);
        double indexS = (System.nanoTime() - t0) / 1e9;
        long size = dirSize(dir);
        System.err.printf(Locale.ROOT, "lucene: %d posts indexed in %.1fs%n", docs, indexS);

        try (DirectoryReader reader = DirectoryReader.open(FSDirectory.open(dir))) {
            IndexSearcher searcher = new IndexSearcher(reader);
            for (int i = 0; i < queries.size(); i++) {
                search(searcher, queries.get(i));
            }
            long[] times = new long[queries.size()];
            long total = 0;
            int zero = 0;
            for (int i = 0; i < queries.size(); i++) {
                long t = System.nanoTime();
                long n = search(searcher, queries.get(i));
                times[i] = System.nanoTime() - t;
                total += n;
                if (n == 0) {
                    zero++;
                }
            }
            Arrays.sort(times);
            StringBuilder runs = new StringBuilder();
            for (int c : clients) {
                String run = closedLoop(searcher, queries, c, seconds);
                runs.append(runs.length() == 0 ? "" : ",").append(run);
            }
            String json = String.format(Locale.ROOT,
                "{\"engine\":\"lucene\",\"docs\":%d,\"index_s\":%.3f,\"size_bytes\":%d,"
                    + "\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"mean_matches\":%.3f,"
                    + "\"zero_hit_queries\":%d,\"runs\":[%s]}",
                docs, indexS, size, pct(times, 0.50), pct(times, 0.99),
                (double) total / queries.size(), zero, runs);
            try (PrintWriter w = new PrintWriter(args[5], StandardCharsets.UTF_8)) {
                w.println(json);
            }
        }
    }

    /** Two indexing threads fed batches of lines; one commit at the end. */
    static long index(Path tsv, Path dir) throws Exception {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            }
        }
        IndexWriterConfig cfg = new IndexWriterConfig();
        cfg.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        cfg.setRAMBufferSizeMB(400);
        final List<String> end = new ArrayList<>();
        BlockingQueue<List<String>> queue = new ArrayBlockingQueue<>(16);
        AtomicReference<Exception> failed = new AtomicReference<>();
        long docs = 0;
        try (IndexWriter writer = new IndexWriter(FSDirectory.open(dir), cfg)) {
            Thread[] workers = new Thread[2];
            for (int i = 0; i < workers.length; i++) {
                workers[i] = new Thread(() -> {
                    try {
                        for (List<String> batch = queue.take(); batch != end; batch = queue.take()) {
                            for (String line : batch) {
                                writer.addDocument(document(line));
                            }
                        }
                    } catch (Exception e) {
                        failed.set(e);
                    }
                });
                workers[i].start();
            }
            try (BufferedReader r = Files.newBufferedReader(tsv, StandardCharsets.UTF_8)) {
                List<String> batch = new ArrayList<>(1000);
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    batch.add(line);
                    docs++;
                    if (batch.size() == 1000) {
                        queue.put(batch);
                        batch = new ArrayList<>(1000);
                    }
                }
                queue.put(batch);
            }
            for (Thread w : workers) {
                queue.put(end);
            }
            for (Thread w : workers) {
                w.join();
            }
            if (failed.get() != null) {
                throw failed.get();
            }
            writer.commit();
        }
        return docs;
    }

    static Document document(String line) throws IOException {
        int a = line.indexOf('\t');
        int b = line.indexOf('\t', a + 1);
        long id = Long.parseLong(line.substring(0, a));
        String lang = line.substring(a + 1, b);
        String text = unescape(line.substring(b + 1));
        Document doc = new Document();
        doc.add(new StoredField("id", id));
        doc.add(new StoredField("text", text));
        doc.add(new TextField(BODY, analyzer(lang).tokenStream(BODY, text)));
        return doc;
    }

    /** PostgreSQL COPY text escaping, as written by `peers prep`. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                out.append(n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    static long search(IndexSearcher searcher, String q) throws IOException {
        TopScoreDocCollector collector = TopScoreDocCollector.create(10, Integer.MAX_VALUE);
        searcher.search(query(q), collector);
        TopDocs top = collector.topDocs();
        for (ScoreDoc sd : top.scoreDocs) {
            searcher.doc(sd.doc);
        }
        return top.totalHits.value;
    }

    /** Words AND'd; each word's forms under the chains of its script OR'd. */
    static Query query(String q) throws IOException {
        BooleanQuery.Builder all = new BooleanQuery.Builder();
        for (String word : q.trim().split("\\s+")) {
            LinkedHashSet<List<String>> variants = new LinkedHashSet<>();
            for (String lang : candidateLangs(word)) {
                List<String> tokens = analyze(analyzer(lang), word);
                if (!tokens.isEmpty()) {
                    variants.add(tokens);
                }
            }
            if (variants.isEmpty()) {
                continue;
            }
            BooleanQuery.Builder any = new BooleanQuery.Builder();
            for (List<String> v : variants) {
                Query one = v.size() == 1
                    ? new TermQuery(new Term(BODY, v.get(0)))
                    : new PhraseQuery(BODY, v.toArray(new String[0]));
                any.add(one, BooleanClause.Occur.SHOULD);
            }
            all.add(any.build(), BooleanClause.Occur.MUST);
        }
        return all.build();
    }

    static String[] candidateLangs(String word) {
        int first = word.codePoints().filter(Character::isLetter).findFirst().orElse(-1);
        if (first < 0) {
            return new String[] {"und"};
        }
        switch (Character.UnicodeScript.of(first)) {
            case CYRILLIC: return new String[] {"und", "ru"};
            case LATIN: return new String[] {"und", "en", "de", "fr", "es", "tr"};
            case ARABIC: return new String[] {"und", "ar", "fa"};
            default: return new String[] {"und"};
        }
    }

    static List<String> analyze(Analyzer a, String text) throws IOException {
        List<String> out = new ArrayList<>();
        try (TokenStream ts = a.tokenStream(BODY, text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            ts.reset();
            while (ts.incrementToken()) {
                out.add(term.toString());
            }
            ts.end();
        }
        return out;
    }

    /** N clients, each sending its next query when the last answer arrives, for `seconds`. */
    static String closedLoop(IndexSearcher searcher, List<String> queries, int clients, double seconds)
            throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        List<List<Long>> times = new ArrayList<>();
        AtomicReference<Exception> failed = new AtomicReference<>();
        Thread[] threads = new Thread[clients];
        for (int i = 0; i < clients; i++) {
            List<Long> mine = new ArrayList<>();
            times.add(mine);
            int offset = i * queries.size() / clients;
            threads[i] = new Thread(() -> {
                try {
                    for (int k = offset; !stop.get(); k++) {
                        long t = System.nanoTime();
                        search(searcher, queries.get(k % queries.size()));
                        mine.add(System.nanoTime() - t);
                    }
                } catch (Exception e) {
                    failed.set(e);
                }
            });
            threads[i].start();
        }
        long start = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        for (Thread t : threads) {
            t.join();
        }
        // Until the last request in flight at the stop is answered: it is counted.
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (failed.get() != null) {
            throw failed.get();
        }
        long[] all = times.stream().flatMap(List::stream).mapToLong(Long::longValue).toArray();
        Arrays.sort(all);
        double qps = all.length / elapsed;
        System.err.printf(Locale.ROOT, "lucene: %d clients %.0f qps, p99 %.2f ms%n", clients, qps, pct(all, 0.99));
        return String.format(Locale.ROOT,
            "{\"clients\":%d,\"requests\":%d,\"qps\":%.2f,\"p50_ms\":%.4f,\"p99_ms\":%.4f}",
            clients, all.length, qps, pct(all, 0.50), pct(all, 0.99));
    }

    static double pct(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        int i = Math.min((int) (sortedNanos.length * p), sortedNanos.length - 1);
        return sortedNanos[i] / 1e6;
    }

    static long dirSize(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
