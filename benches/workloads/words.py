import sys
text = open(sys.argv[1]).read()
counts = {}
for line in text.split("\n"):
    for word in line.split():
        counts[word] = counts.get(word, 0) + 1
top = sorted([-c, w] for w, c in counts.items())
print(len(counts), top[:3])
