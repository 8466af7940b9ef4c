// Package classify is the text classifier behind the rules' model: a
// linear model, trained at rules load on the examples ops wrote (and on the
// corrections they accepted), that gives every team a probability for a
// message's text. Rules stay in charge where they match; the model covers
// what nobody wrote a rule for: inflections, compounds, typos, missing ä
// and ö, spoken Finnish and Swedish, without listing every form.
//
// The package knows nothing of rules, envelopes or YAML. Its caller (the
// rules package) tokenizes and stems the text and feeds the words here.
//
// # Using it
//
// For each message, training example or live, one goroutine's Vectorizer
// is fed the folded words (AddWord) and, for each word it has not seen in
// the message yet, the word's stems (AddStem, per stemming language):
//
//	v.Reset()
//	for each token:
//		if v.AddWord(folded) { v.AddStem("fi", stemFi); ... }
//	features := v.Features()
//
// Training copies the features into a Doc per example, with the index of
// its team in labels:
//
//	m, err := classify.Train(docs, teams, classify.Options{})
//
// Classifying writes one probability per team (in m.Labels() order) into a
// buffer the caller keeps, and Top picks the best three for the trace:
//
//	scores = m.Scores(features, scores)   // no allocation
//	top = classify.Top(scores, 3, top)    // teams m.Labels()[top[i]]
//
// Feed training examples and live messages the same way (same folding,
// same stem languages for the same text): the model only knows the
// features it was trained on. Folds and CrossValidate measure accuracy
// without a separate test set (for rules evaluate: the probabilities of
// each example from the model that did not see it, to combine with what
// the rules decide).
//
// # What it learns from
//
// Each message is a bag of hashed features (see Vectorizer):
//
//   - every distinct word with ä, ö and å written as a, o and a (and, when
//     it has them, the word as written);
//   - every distinct stem per language (the caller's Snowball stems);
//   - character n-grams of 3 to 5 letters of each distinct word, with
//     its start and end marked ("<laskussani>" gives "<la", "<las",
//     "las", ..., "ani>"): "laskusani", "laskuni", "sähkölasku" and
//     "lasku" share most of their grams, which is how typos, inflections
//     and compounds not in the examples are recognised.
//
// Features are 32-bit hashes folded into 2^Bits buckets (2^18 by default):
// there is no vocabulary, memory does not grow with the text seen, and
// unrelated features that share a bucket add a little noise.
//
// The model is a multinomial logistic regression (softmax regression):
// each team has a weight per bucket and a bias; a message's score for a
// team is the sum of its features' weights (grams count GramWeight = 2
// times a word; the vector is scaled to length 1, so long and short
// messages compare), and the probabilities are the softmax of the scores.
// Training minimises the mean cross-entropy plus an L2 penalty by
// stochastic gradient descent, visiting the examples in a seeded order,
// with each team's examples together counting the same by default (so a
// team with 10 examples is not drowned by one with 1,000) and each
// example's Doc.Weight on top (a correction can count more). It stops when
// an epoch lowers the loss by less than 0.1%, after 50 epochs, or after
// 300,000 steps, whichever comes first.
//
// Training is deterministic: the same examples and options give
// bit-identical weights, on the same architecture and Go version.
//
// # Why this model, with numbers
//
// Measured on testdata/corpus.tsv: 162 short messages written for the
// tests, 18 per team over 9 teams (billing, logistics, product, sales,
// privacy, hr, comms, security, triage), 99 Finnish (standard, spoken,
// misspelled, without ä/ö), 45 English, 18 Swedish, deliberately varied so
// that most messages share few words with the others of their team. 5-fold
// cross-validation, 3 different splits (go test ./classify -run
// CompareModels -v):
//
//	model                         accuracy  top 3  log loss
//	logistic regression (chosen)  0.407     0.720  1.73
//	  not class-balanced          0.405     0.722  1.73
//	  grams weighted as words     0.391     0.700  1.77
//	  L2 1e-4 / 1e-5              0.409 / 0.407    1.75 / 1.72
//	  2^16 / 2^20 buckets         0.401 / 0.405    1.73 / 1.73
//	  without grams               0.267     0.496  2.18
//	  without stems               0.405     0.722  1.72
//	  with word bigrams           0.403     0.718  1.73
//	complement naive Bayes        0.356     0.689  (not probabilities)
//	chance                        0.111     0.333  2.20
//
// Complement naive Bayes (Rennie et al. 2003), the usual strong baseline
// for short text, is 5 points less accurate on the same features and its
// scores are not probabilities, so the logistic regression was chosen. The
// character grams are what generalises: without them accuracy falls to
// 0.27. Stems and word bigrams moved it by less than a point, within the
// noise of 162 messages; bigrams were dropped (15% more features to score
// for nothing measurable), stems kept (they are the rules' own notion of a
// word, and cost one feature per distinct word and language). The
// absolute numbers are low because the corpus is small and varied on
// purpose: most test messages have no content word in common with the
// training part (Swedish, 2 messages per team, is weakest). Messages that
// reuse the examples' words in another form do well: on
// testdata/variants.tsv (36 held-out messages: the words without ä and ö,
// misspelled, spoken Finnish, Swedish) the model trained on the corpus
// gets 35 right, and a training message with its ä/ö dropped or with typos
// keeps its team in 100% of cases. Real example sets, with many messages
// per topic in the words customers actually use, should do much better;
// rules evaluate measures them.
//
// # Reading the scores: calibration and min_confidence
//
// A team's score is the model's probability that the message belongs to
// it, among the teams it was trained on: the scores of all teams sum to 1,
// so with 9 teams a message the model knows nothing about gets about 0.11
// each (the teams' priors), and 0.5 means the model prefers that team over
// all others together. A min_confidence of 0.6 on a model condition holds
// when the model gives that team at least 0.6.
//
// The probabilities are only as good as the examples. Cross-validated on
// the corpus, binned by the top team's probability, the share of right
// predictions was:
//
//	top probability  messages  mean p  right
//	below 0.2         69       0.18    0.23
//	0.2 to 0.3       186       0.25    0.30
//	0.3 to 0.4       120       0.34    0.42
//	0.4 to 0.5        57       0.45    0.65
//	0.5 to 0.7        41       0.57    0.66
//	0.7 and above     13       0.77    0.85
//
// So the model is somewhat under-confident: when it says 0.5 it is right
// more often than half the time. With few or inconsistent examples it
// rarely reaches high probabilities at all; more examples per team make it
// both more accurate and more confident. A min_confidence between 0.5 and
// 0.7 is a reasonable start; check it with rules evaluate on your examples.
//
// # Costs
//
// The model holds 4 bytes per bucket and team: 9 MiB for 9 teams at the
// default 2^18 buckets. Training allocates the model and a few bytes per
// example; 10,000 examples train in well under a second of CPU on one
// goroutine (at most 30 epochs under the default step budget). Scoring a
// message adds one row of weights per feature (a 300-byte message has about
// 700 features, a 3 KB mail about 1,900) and allocates nothing; vectorizing
// and scoring take about 9 µs and 35 µs of CPU for those. The features of a
// message are bounded by MaxFeatures. docs/BENCHMARKS.md has the
// measurements.
package classify
