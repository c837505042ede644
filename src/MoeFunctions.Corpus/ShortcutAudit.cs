using System.Globalization;
using System.Numerics;
using System.Text;

namespace MoeFunctions.Corpus;

/// <summary>
/// The shortcut audit of issue 3: per domain, a logistic regression on five trivial clip features (duration,
/// RMS, spectral roll-off, energy above 4 kHz, leading-silence length), scored by 5-fold cross-validation. If such
/// a classifier separates bona fide from spoof (EER below 30 %), the corpus leaks the label through the recording
/// path instead of the speech, and the audit fails.
/// </summary>
public static class ShortcutAudit
{
    public const double MinEer = 0.30;
    public static readonly string[] FeatureNames = ["duration_s", "rms_db", "rolloff_hz", "above4k_db", "lead_silence_s"];

    public sealed record DomainResult(string Domain, int Files, double Eer, IReadOnlyDictionary<string, double> FeatureEers)
    {
        public bool Passed => Eer >= MinEer;
    }

    public sealed record Report(IReadOnlyList<DomainResult> Domains)
    {
        public bool Passed => Domains.All(d => d.Passed);

        public string ToMarkdown()
        {
            var sb = new StringBuilder("# Shortcut audit\n\nLogistic regression on trivial features, 5-fold CV; fails below 30 % EER.\n\n");
            sb.AppendLine($"| domain | files | LR EER | {string.Join(" | ", FeatureNames.Select(f => f + " EER"))} | verdict |");
            sb.AppendLine($"|---|---:|---:|{string.Concat(FeatureNames.Select(_ => "---:|"))}---|");
            foreach (var d in Domains)
                sb.AppendLine($"| {d.Domain} | {d.Files} | {P(d.Eer)} | {string.Join(" | ", FeatureNames.Select(f => P(d.FeatureEers[f])))} | {(d.Passed ? "pass" : "FAIL")} |");
            return sb.ToString();
        }

        static string P(double v) => (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + " %";
    }

    public static Report Run(string manifestPath, int seed, int parallelism = 2)
    {
        var root = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var rows = Manifest.Read(manifestPath);
        var feats = new double[rows.Count][];
        Parallel.For(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            i => feats[i] = Features(Signal.ReadWav(Path.Combine(root, rows[i].Path))));
        var results = new List<DomainResult>();
        foreach (var d in rows.Select(r => r.Domain).Distinct().Order(StringComparer.Ordinal))
        {
            var idx = Enumerable.Range(0, rows.Count).Where(i => rows[i].Domain == d).ToArray();
            var X = idx.Select(i => feats[i]).ToArray();
            var y = idx.Select(i => rows[i].IsSpoof ? 1 : 0).ToArray();
            var folds = idx.Select(i => (int)(StableHash.Of($"{seed}/audit/{rows[i].Path}") % 5)).ToArray();
            double eer = CrossValidatedEer(X, y, folds);
            var single = new Dictionary<string, double>();
            for (int f = 0; f < FeatureNames.Length; f++)
                single[FeatureNames[f]] = CrossValidatedEer(X.Select(x => new[] { x[f] }).ToArray(), y, folds);
            results.Add(new DomainResult(d, idx.Length, eer, single));
        }
        return new Report(results);
    }

    /// <summary>The five features of one clip.</summary>
    public static double[] Features(Signal s)
    {
        var x = s.Samples;
        double rms = 10 * Math.Log10(x.Select(v => (double)v * v).DefaultIfEmpty(0).Average() + 1e-12);
        var db = SignalOps.FrameDb(x, s.Rate);
        double peak = db.Length > 0 ? db.Max() : -120;
        int lead = Array.FindIndex(db, d => d > peak - 30);
        double leadS = Math.Max(lead, 0) * 0.02;
        const int n = 512;
        var w = Enumerable.Range(0, n).Select(i => 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / n)).ToArray();
        double rollSum = 0, hi = 0, tot = 0; int frames = 0;
        var buf = new Complex[n];
        var pw = new double[n / 2 + 1];
        for (int start = 0; start + n <= x.Length; start += n / 2)
        {
            double e = 0;
            for (int i = 0; i < n; i++) e += x[start + i] * (double)x[start + i];
            if (10 * Math.Log10(e / n + 1e-12) < peak - 30) continue; // active frames only
            for (int i = 0; i < n; i++) buf[i] = new Complex(x[start + i] * w[i], 0);
            Fft.Forward(buf);
            double sum = 0;
            for (int k = 0; k <= n / 2; k++) { pw[k] = buf[k].Magnitude * buf[k].Magnitude; sum += pw[k]; }
            double acc = 0; int kr = n / 2;
            for (int k = 0; k <= n / 2; k++) { acc += pw[k]; if (acc >= 0.85 * sum) { kr = k; break; } }
            rollSum += kr * s.Rate / (double)n;
            for (int k = 0; k <= n / 2; k++) { tot += pw[k]; if (k * s.Rate / (double)n >= 4000) hi += pw[k]; }
            frames++;
        }
        double rolloff = frames > 0 ? rollSum / frames : 0;
        double above4k = 10 * Math.Log10((hi + 1e-12) / (tot + 1e-9));
        return [s.DurationS, rms, rolloff, above4k, leadS];
    }

    static double CrossValidatedEer(double[][] X, int[] y, int[] folds)
    {
        var scores = new double[y.Length];
        for (int k = 0; k < 5; k++)
        {
            var tr = Enumerable.Range(0, y.Length).Where(i => folds[i] != k).ToArray();
            var te = Enumerable.Range(0, y.Length).Where(i => folds[i] == k).ToArray();
            if (te.Length == 0) continue;
            var model = LogisticRegression.Fit(tr.Select(i => X[i]).ToArray(), tr.Select(i => y[i]).ToArray());
            foreach (var i in te) scores[i] = model.Score(X[i]);
        }
        return Eer(scores, y);
    }

    /// <summary>Equal error rate of scores where higher means more likely class 1.</summary>
    public static double Eer(double[] scores, int[] y)
    {
        int pos = y.Count(v => v == 1), neg = y.Length - pos;
        if (pos == 0 || neg == 0) return 0.5;
        var order = Enumerable.Range(0, y.Length).OrderBy(i => scores[i]).ToArray();
        // Threshold just above order[j]: everything at or below is called class 0.
        double best = 1, eer = 0.5;
        int fn = 0, tn = 0;
        for (int j = -1; j < order.Length; j++)
        {
            if (j >= 0) { if (y[order[j]] == 1) fn++; else tn++; }
            if (j >= 0 && j + 1 < order.Length && scores[order[j + 1]] == scores[order[j]]) continue; // ties move together
            double frr = fn / (double)pos, far = (neg - tn) / (double)neg;
            if (Math.Abs(frr - far) < best) { best = Math.Abs(frr - far); eer = (frr + far) / 2; }
        }
        return eer;
    }
}

/// <summary>L2-regularised logistic regression on standardised features, by full-batch gradient descent.</summary>
public sealed class LogisticRegression
{
    double[] _mean = [], _std = [], _w = [];
    double _b;

    public static LogisticRegression Fit(double[][] X, int[] y, int iterations = 400, double lr = 0.5, double l2 = 1e-3)
    {
        int d = X[0].Length, n = X.Length;
        var m = new LogisticRegression { _mean = new double[d], _std = new double[d], _w = new double[d] };
        for (int j = 0; j < d; j++)
        {
            m._mean[j] = X.Average(x => x[j]);
            m._std[j] = Math.Sqrt(X.Average(x => (x[j] - m._mean[j]) * (x[j] - m._mean[j]))) + 1e-9;
        }
        var Z = X.Select(x => Enumerable.Range(0, d).Select(j => (x[j] - m._mean[j]) / m._std[j]).ToArray()).ToArray();
        // Class weights balance the loss so an imbalanced domain cannot win by predicting the majority.
        double wPos = n / (2.0 * Math.Max(1, y.Count(v => v == 1))), wNeg = n / (2.0 * Math.Max(1, y.Count(v => v == 0)));
        for (int it = 0; it < iterations; it++)
        {
            var g = new double[d]; double gb = 0;
            for (int i = 0; i < n; i++)
            {
                double p = Sigmoid(m._b + Dot(m._w, Z[i]));
                double err = (p - y[i]) * (y[i] == 1 ? wPos : wNeg);
                for (int j = 0; j < d; j++) g[j] += err * Z[i][j];
                gb += err;
            }
            for (int j = 0; j < d; j++) m._w[j] -= lr * (g[j] / n + l2 * m._w[j]);
            m._b -= lr * gb / n;
        }
        return m;
    }

    public double Score(double[] x)
    {
        double s = _b;
        for (int j = 0; j < _w.Length; j++) s += _w[j] * (x[j] - _mean[j]) / _std[j];
        return s;
    }

    static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}
