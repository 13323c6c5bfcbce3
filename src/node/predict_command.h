// CLI11 registration of `gossip-learner predict --model FILE [--json] [NAME... | -]`: the three
// most likely languages of each name. Names come from the arguments, or from stdin one per
// line (blank lines passed over) when there are none or one is "-". A name with nothing the model can read (empty,
// blank, invalid UTF-8, no Latin letter: an emoji) is refused with a reason instead of a
// guess, and the command then exits 1 after answering the other names; a name with some
// unknown characters is answered and flagged. --json prints one JSON object per name and
// line. Sets `exit_code` when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace gl::node {

void AddPredictCommand(CLI::App& app, int& exit_code);

}  // namespace gl::node
