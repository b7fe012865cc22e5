// The one thread that runs a loaded model for the server. It owns one Session (a KV-cache
// slot) per --parallel, admits queued jobs into free slots, and steps every busy slot once
// per round: a chunk of prompt while a job's prompt is going in, then one token per round, so
// every stream advances together. The queue is bounded; a job whose client went away is
// dropped at the start of the next round, queued or running (the thread only sleeps when no
// slot is busy, so a round is never further away than one step).
#pragma once

#include <bitnet/runtime/model/session.hpp>
#include <bitnet/runtime/server/job.hpp>
#include <bitnet/runtime/server/metrics.hpp>
#include <bitnet/runtime/tokenizer/tokenizer.hpp>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace bitnet::server {

class Stepper;

class Scheduler {
 public:
  // `slots` are sessions of one model; prompts go in `n_batch` tokens per round.
  Scheduler(const tok::Tokenizer& tokenizer, std::vector<std::unique_ptr<model::Session>> slots,
            std::unique_ptr<Stepper> stepper, size_t queue_limit, int64_t n_batch,
            Metrics& metrics);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  // Stops the thread after the current round; jobs still queued or running get an error.
  ~Scheduler();

  // False when the queue is full.
  bool submit(std::shared_ptr<Job> job);
  // Nothing queued and no slot busy.
  bool idle() const;
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_vocab() const { return n_vocab_; }

 private:
  struct Slot;
  void run();
  void purge_cancelled();  // with mutex_ held
  void admit(std::vector<Slot>& slots);
  void round(std::vector<Slot>& slots);

  const tok::Tokenizer& tokenizer_;
  std::vector<std::unique_ptr<model::Session>> sessions_;
  std::unique_ptr<Stepper> stepper_;
  size_t queue_limit_;
  int64_t n_batch_;
  int64_t n_ctx_, n_vocab_;
  Metrics& metrics_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  size_t busy_ = 0;  // slots with a job, as last published by the thread
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace bitnet::server
